// policybot page script: the source panel, the copy button and Chinese names for gradio's own
// screen-reader labels. Loaded into both pages; every handler is delegated from the document,
// because gradio re-renders chat messages at will.
(() => {
  if (window.policybotPage) return;
  window.policybotPage = true;

  // ---- source panel --------------------------------------------------------------------------
  let opener = null;
  function panel() {
    let p = document.getElementById("pb-source-panel");
    if (!p) {
      p = document.createElement("aside");
      p.id = "pb-source-panel";
      p.setAttribute("role", "dialog");
      p.setAttribute("aria-labelledby", "pb-source-panel-title");
      p.hidden = true;
      p.innerHTML = '<div class="pb-panel-bar"><h2 id="pb-source-panel-title">条款原文</h2>' +
        '<button type="button" class="pb-panel-close" aria-label="关闭条款原文">×</button></div>' +
        '<div class="pb-panel-body" tabindex="0" aria-label="条款及其上下文"></div>';
      document.body.appendChild(p);
    }
    return p;
  }
  function openSource(id, from) {
    const src = document.getElementById(id);
    if (!src) return;
    const p = panel();
    p.querySelector(".pb-panel-body").innerHTML = src.innerHTML;
    p.hidden = false;
    opener = from;
    p.querySelector(".pb-panel-close").focus();
    const cited = p.querySelector(".pb-ctx-cited");
    if (cited) cited.scrollIntoView({ block: "center" });
  }
  function closePanel() {
    const p = document.getElementById("pb-source-panel");
    if (!p || p.hidden) return;
    p.hidden = true;
    if (opener && document.body.contains(opener)) opener.focus();
    opener = null;
  }

  // ---- copy ----------------------------------------------------------------------------------
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      // plain http on a LAN address is not a secure context: fall back to a selected textarea
      const ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.appendChild(ta);
      ta.select();
      const ok = document.execCommand("copy");
      ta.remove();
      return ok;
    }
  }

  document.addEventListener("click", async (e) => {
    const ref = e.target.closest("a.pb-ref");
    if (ref) {
      e.preventDefault();
      openSource(ref.getAttribute("href").slice(1), ref);
      return;
    }
    if (e.target.closest(".pb-panel-close")) {
      closePanel();
      return;
    }
    const copy = e.target.closest("button.pb-copy");
    if (copy) {
      const reply = copy.closest(".pb-reply");
      const plain = reply && reply.querySelector(".pb-plain");
      const status = reply && reply.querySelector(".pb-copy-status");
      const ok = plain ? await copyText(plain.textContent) : false;
      if (status) status.textContent = ok ? "已复制" : "复制失败，请手动选择文字复制";
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") closePanel();
  });

  // ---- Chinese names for gradio's built-in labels ---------------------------------------------
  const LABELS = {
    "chatbot conversation": "对话记录", "Table actions": "表格操作", "Copy table data": "复制表格",
    "Fullscreen": "全屏", "Exit fullscreen": "退出全屏", "Dataframe": "表格", "Open cell menu": "单元格菜单",
    "Gradio footer navigation": "页脚", "File upload": "上传文件", "Click to upload or drop files": "点击或拖放文件上传",
    "Sort column": "排序", "Search": "搜索", "Copy": "复制", "Copy message": "复制消息",
    "Like": "赞", "Dislike": "踩", "Clear": "清空", "Download": "下载", "Remove": "移除",
    "Upload": "上传", "Close": "关闭", "Loading": "加载中", "Empty value": "暂无内容",
  };
  const PREFIXES = [["user's message: ", "提问："], ["bot's message: ", "回答："]];
  function translate(el) {
    // gradio's empty-file box is a labelled div without a role, which assistive technology ignores
    if (el.classList && el.classList.contains("empty") && el.hasAttribute("aria-label") && !el.hasAttribute("role")) {
      el.setAttribute("role", "img");
    }
    for (const attr of ["aria-label", "title", "placeholder"]) {
      const v = el.getAttribute(attr);
      if (!v) continue;
      let t = LABELS[v];
      if (!t) {
        for (const [en, zh] of PREFIXES) {
          // gradio puts the raw message (our HTML) into the label: keep its words only
          if (v.startsWith(en)) t = zh + v.slice(en.length).replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 60);
        }
      }
      if (t && t !== v) el.setAttribute(attr, t);
    }
  }
  function sweep(root) {
    if (root.nodeType !== 1) return;
    translate(root);
    root.querySelectorAll("[aria-label],[title],[placeholder]").forEach(translate);
  }
  const start = () => {
    sweep(document.body);
    new MutationObserver((muts) => {
      for (const m of muts) {
        if (m.type === "attributes") translate(m.target);
        else m.addedNodes.forEach(sweep);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true,
                                attributeFilter: ["aria-label", "title", "placeholder"] });
  };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
