// Commonpod pages: small progressive enhancement only (every page works without it).
"use strict";
const LARGE = 1024 * 1024; // uploads from this size on show their progress

function localTimes() {
  // exact times in the reader's own time zone, as the title of each <time>
  for (const t of document.querySelectorAll("time[datetime][title]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) t.title = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
}

function uploadProgress(form) {
  // a large upload is sent by XMLHttpRequest so its <progress> can follow it; the answer
  // (a redirect to the folder, or a page saying what went wrong) then replaces this page
  const bar = document.getElementById(form.dataset.progress);
  form.addEventListener("submit", (event) => {
    const size = [...form.querySelectorAll("input[type=file]")]
      .flatMap((input) => [...input.files]).reduce((sum, f) => sum + f.size, 0);
    if (!bar || size < LARGE) return;
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status < 400 && xhr.responseURL) { window.location.assign(xhr.responseURL); return; }
      document.open(); document.write(xhr.responseText); document.close();
    });
    xhr.addEventListener("error", () => { form.submit(); });
    xhr.send(new FormData(form));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes();
  for (const form of document.querySelectorAll("form[data-progress]")) uploadProgress(form);
});
