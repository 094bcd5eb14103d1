// Fleetgate's few lines of script. No inline script anywhere: the page's
// Content-Security-Policy forbids it.
(function () {
  "use strict";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // Every htmx request carries the CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });

  // Errors htmx does not swap (404, 5xx, network) still tell the user.
  function say(text) {
    var box = document.getElementById("flash");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.replaceChildren(p);
  }
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status === 401) return; // HX-Redirect to the login page follows
    var msg = "The server could not do that (" + xhr.status + ").";
    var tmp = document.createElement("div");
    tmp.innerHTML = xhr.responseText;
    var p = tmp.querySelector("[role=alert] p");
    if (p) msg = p.textContent;
    say(msg);
  });
  document.addEventListener("htmx:sendError", function () {
    say("The server did not answer. Check your connection and try again.");
  });

  // A select marked data-autosubmit submits its form when changed.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("select[data-autosubmit]")) t.form.requestSubmit();
  });

  // Buttons with data-confirm ask before their form is sent.
  document.addEventListener("submit", function (e) {
    var b = e.submitter;
    var text = (b && b.dataset.confirm) || e.target.dataset.confirm;
    if (text && !window.confirm(text)) {
      e.preventDefault();
      e.stopPropagation(); // htmx listens on the form itself: it must not send it either
    }
  }, true);

  // Dialogs: a button with data-open="ID" opens <dialog id=ID>; a button
  // with data-close closes its dialog.
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-open],[data-close]");
    if (!t) return;
    if (t.dataset.open) {
      var d = document.getElementById(t.dataset.open);
      if (d && d.showModal) d.showModal();
    } else {
      var dlg = t.closest("dialog");
      if (dlg) dlg.close();
    }
  });

  // Copy buttons: data-copy="text".
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-copy]");
    if (!t || !navigator.clipboard) return;
    navigator.clipboard.writeText(t.dataset.copy).then(function () {
      t.textContent = "Copied";
    });
  });
})();
