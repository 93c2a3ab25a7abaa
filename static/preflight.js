
// Forms marked data-confirm ask before they submit (removing a member, deleting a project).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Projects and scans: copy and download buttons, live scan progress, form fields shown with their choice.
(() => {
  const textOf = (id) => {
    const element = document.getElementById(id);
    return element ? element.textContent : "";
  };

  const copyText = async (text) => {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    // Plain http outside localhost has no clipboard API: fall back to a selection.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  };

  const flashLabel = (button, label) => {
    const original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    setTimeout(() => { button.textContent = original; }, 1500);
  };

  document.addEventListener("click", async (event) => {
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      try {
        await copyText(textOf(copy.dataset.copy));
        copy.dataset.copied = "true";
        flashLabel(copy, "Copied");
      } catch {
        flashLabel(copy, "Copy failed: select the text");
      }
      return;
    }
    const download = event.target.closest("[data-download]");
    if (download) {
      const blob = new Blob([textOf(download.dataset.download)], { type: "text/x-diff" });
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = download.dataset.filename || "preflight.patch";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }
  });

  const pollProgress = (box) => {
    const bar = box.querySelector(".progress");
    const fill = bar.querySelector("span");
    const stage = box.querySelector("[data-stage]");
    const percent = box.querySelector("[data-percent]");
    const tick = async () => {
      let state;
      try {
        const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" }, cache: "no-store" });
        if (!response.ok) throw new Error(String(response.status));
        state = await response.json();
      } catch {
        setTimeout(tick, 3000);
        return;
      }
      fill.style.width = `${state.progress}%`;
      bar.setAttribute("aria-valuenow", String(state.progress));
      stage.textContent = state.stage;
      percent.textContent = `${state.progress}%`;
      if (!state.finished) {
        setTimeout(tick, 1000);
        return;
      }
      box.dataset.finished = state.status;
      box.querySelector("[data-done]").hidden = false;
      // A moment at 100% so the bar is seen to finish, then the page with the result.
      if ("reload" in box.dataset) setTimeout(() => window.location.reload(), 700);
    };
    setTimeout(tick, 1000);
  };
  document.querySelectorAll("[data-progress-url]").forEach(pollProgress);

  const toggles = document.querySelectorAll("[data-show-when]");
  const refresh = () => {
    toggles.forEach((element) => {
      const [name, value] = element.dataset.showWhen.split("=");
      const field = element.closest("form").elements[name];
      element.hidden = field.value !== value && !element.classList.contains("has-errors");
    });
  };
  if (toggles.length) {
    document.addEventListener("change", refresh);
    refresh();
  }
})();

// The unsubscribe page confirms itself for a person's browser; a mail scanner that only fetches the link does not.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-autosubmit]");
  if (form) form.submit();
});
