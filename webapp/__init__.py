"""The web app behind `policybot serve`: gradio UIs (public chat, staff tools) and the HTTP API.

app.py at the repository root wires these modules into one FastAPI application.
"""

import os

# gradio reads this when it is imported, before any Blocks(analytics_enabled=False) could say so
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
