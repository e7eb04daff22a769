"""Prompts are data: files in prompts/, checked for their placeholders when loaded."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent.parent / "prompts"
REQUIRED = {
    "system": {"refusal"},
    "answer": {"sources", "history", "question"},
}


class PromptError(ValueError):
    pass


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str

    def render(self, **values: str) -> str:
        return self.text.format(**values)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def load_prompt(name: str, directory: Path = PROMPT_DIR) -> Prompt:
    path = directory / f"{name}.txt"
    if not path.exists():
        raise PromptError(f"prompt file missing: {path}")
    text = path.read_text("utf-8")
    found = placeholders(text)
    need = REQUIRED.get(name, set())
    if found != need:
        raise PromptError(f"prompt {name}: placeholders {sorted(found)} but the code fills {sorted(need)}")
    return Prompt(name, text)
