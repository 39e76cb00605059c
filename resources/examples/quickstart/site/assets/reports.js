/* Lumen Tasks — the reports page (signed-in only).
   Loaded before app.js and before the body, so a visitor who is not signed in is sent to the sign-in page
   before anything paints.  The buttons raise the browser's own dialogs on purpose (confirm, prompt) and
   the export downloads a small CSV, so the page exercises what a recorded flow meets in real apps.
   User text only ever reaches the page through textContent. */
(() => {
  "use strict";

  const STORE_KEY = "lumen-tasks.v1";
  let signedIn = false;
  try {
    const data = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    signedIn = Boolean(data && data.user && data.user.email);
  } catch (_err) {
    signedIn = false;
  }
  if (!signedIn) {
    location.replace("signin.html");
    return;
  }

  const CSV = "project,completed,opened,due next week\r\n" +
    "Website redesign,3,2,2\r\nMobile app 2.0,2,2,2\r\nQ3 product launch,3,1,1\r\n" +
    "Customer onboarding,1,2,1\r\nBilling migration,1,1,1\r\nSupport playbook,4,1,0\r\n";

  function start() {
    const $ = (sel) => document.querySelector(sel);
    const title = $("#report-title");
    const status = $("#report-status");

    $("#delete-report").addEventListener("click", () => {
      if (window.confirm(`Delete the report “${title.textContent}”? This cannot be undone.`)) {
        $("#report").hidden = true;
        $("#report-deleted").hidden = false;
      } else {
        status.textContent = "Kept the report.";
        status.className = "report-status kept";
      }
    });

    $("#rename-report").addEventListener("click", () => {
      const name = window.prompt("New name for the report", title.textContent);
      if (name === null || !name.trim()) {
        status.textContent = "The name was not changed.";
        status.className = "report-status";
        return;
      }
      title.textContent = name.trim();
      $("#report").classList.add("renamed");
      status.textContent = "Renamed.";
      status.className = "report-status kept";
    });

    $("#export-csv").addEventListener("click", () => {
      const url = URL.createObjectURL(new Blob([CSV], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = "weekly-summary.csv";
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      status.textContent = "Exported weekly-summary.csv.";
      status.className = "report-status kept";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
