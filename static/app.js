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
  // A pairing box whose save failed goes back to what is saved, and says so.
  function pairFailed(e) {
    var form = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest("form.pair");
    if (!form) return;
    var box = form.querySelector("input[type=checkbox]");
    if (box) box.checked = !box.checked;
    form.classList.add("pair-failed");
  }
  document.addEventListener("htmx:responseError", pairFailed);
  document.addEventListener("htmx:sendError", pairFailed);
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

  // A checkbox data-select-all="NAME" ticks or clears every box of that
  // name in its form; it follows them when they are ticked one by one.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (!t.form || t.type !== "checkbox") return;
    if (t.dataset.selectAll) {
      t.form.querySelectorAll('input[type=checkbox][name="' + t.dataset.selectAll + '"]').forEach(function (b) { b.checked = t.checked; });
      return;
    }
    var all = t.form.querySelector('[data-select-all="' + t.name + '"]');
    if (!all) return;
    var boxes = t.form.querySelectorAll('input[type=checkbox][name="' + t.name + '"]');
    var on = t.form.querySelectorAll('input[type=checkbox][name="' + t.name + '"]:checked').length;
    all.checked = on === boxes.length;
    all.indeterminate = on > 0 && on < boxes.length;
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
  // Roles matrix (views/roles.templ). The server completes and checks
  // every save whatever the page sends; this block keeps the page honest
  // while editing:
  // - turning a permission on turns on what it requires (data-requires);
  //   turning one off turns off what depends on it; a live line says so;
  // - scope settings show only under a permission that is on;
  // - Save is enabled, and "Unsaved changes" shown, only while a control
  //   differs from its saved value (data-saved);
  // - a stale impact review is dropped as soon as a toggle changes;
  // - leaving by a link (the role list swaps the matrix) or closing the
  //   page asks first while there are unsaved changes.
  function roleMatrix() { return document.querySelector("form[data-role-matrix]"); }

  function permToggle(form, key) {
    return form.querySelector('input[name="p"][value="' + CSS.escape(key) + '"]');
  }

  function prerequisites(el) {
    return (el.dataset.requires || "").split(" ").filter(Boolean);
  }

  function turnOnRequirements(form, el, changed) {
    prerequisites(el).forEach(function (k) {
      var r = permToggle(form, k);
      if (r && !r.checked) {
        r.checked = true;
        changed.push(r.dataset.label);
        turnOnRequirements(form, r, changed);
      }
    });
  }

  function turnOffDependents(form, el, changed) {
    form.querySelectorAll('input[name="p"]').forEach(function (d) {
      if (d.checked && prerequisites(d).indexOf(el.value) >= 0) {
        d.checked = false;
        changed.push(d.dataset.label);
        turnOffDependents(form, d, changed);
      }
    });
  }

  // A scope input counts only while its permission is on.
  function roleDirty(form) {
    return Array.prototype.some.call(form.querySelectorAll("[data-saved]"), function (el) {
      if (el.name === "p") return el.checked !== (el.dataset.saved === "1");
      var box = el.closest("[data-scopes-for]");
      var owner = box && permToggle(form, box.dataset.scopesFor);
      if (owner && !owner.checked) return false;
      if (el.type === "checkbox") return el.checked !== (el.dataset.saved === "1");
      return (el.value.trim() || "0") !== el.dataset.saved;
    });
  }

  function refreshMatrix(form) {
    form.querySelectorAll("[data-scopes-for]").forEach(function (box) {
      var t = permToggle(form, box.dataset.scopesFor);
      box.hidden = !(t && t.checked);
    });
    var dirty = roleDirty(form);
    var save = form.querySelector("[data-role-save]");
    if (save) save.disabled = !dirty;
    var mark = form.querySelector("[data-dirty-marker]");
    if (mark) mark.hidden = !dirty;
  }

  function dropReview(form) {
    var r = form.querySelector("#role-review");
    if (r) r.replaceChildren();
  }

  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("form[data-role-matrix]");
    if (!form) return;
    var el = e.target;
    if (el.name === "p") {
      var changed = [];
      if (el.checked) turnOnRequirements(form, el, changed);
      else turnOffDependents(form, el, changed);
      var line = form.querySelector("#role-changes");
      if (line) {
        line.textContent = changed.length === 0 ? "" : el.checked
          ? "Also turned on: " + changed.join(", ") + " (needed by " + el.dataset.label + ")."
          : "Also turned off: " + changed.join(", ") + " (they need " + el.dataset.label + ").";
      }
    }
    dropReview(form);
    refreshMatrix(form);
  });

  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("form[data-role-matrix]");
    if (form && e.target.type === "number") {
      dropReview(form);
      refreshMatrix(form);
    }
  });

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-review-cancel]");
    var form = b && b.closest("form[data-role-matrix]");
    if (!form) return;
    dropReview(form);
    var save = form.querySelector("[data-role-save]");
    if (save) save.focus();
  });

  // Asking happens in the capture phase, before htmx sees the click.
  var leftAt = 0;
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href]");
    var form = roleMatrix();
    if (!a || !form || !roleDirty(form)) return;
    if (!window.confirm("You have unsaved changes to " + form.dataset.roleName + ". Leave without saving them?")) {
      e.preventDefault();
      e.stopPropagation();
      return;
    }
    leftAt = Date.now(); // already asked: the page unload below must not ask again
  }, true);

  window.addEventListener("beforeunload", function (e) {
    var form = roleMatrix();
    if (!form || Date.now() - leftAt < 2000 || !roleDirty(form)) return;
    e.preventDefault();
    e.returnValue = "";
  });

  // Back and forward: htmx fetches the page it goes to, unless told not to.
  // Declining keeps the matrix and puts its address back.
  document.addEventListener("htmx:historyCacheMiss", function (e) {
    var form = roleMatrix();
    if (!form || !roleDirty(form)) return;
    if (window.confirm("You have unsaved changes to " + form.dataset.roleName + ". Leave without saving them?")) return;
    e.preventDefault();
    var panel = document.getElementById("role-panel");
    if (panel) history.pushState({ htmx: true }, "", "/roles/" + panel.dataset.roleId);
  });

  // An answer that marks an element data-focus-after-swap (the outcome of a
  // save) brings it into view where the person is and moves the focus there.
  document.addEventListener("htmx:afterSettle", function () {
    var el = document.querySelector("[data-focus-after-swap]");
    if (!el) return;
    el.removeAttribute("data-focus-after-swap");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "center" });
  });

  // The role list marks the role whose matrix is shown, also after htmx
  // swapped in another one.
  document.addEventListener("htmx:afterSwap", function () {
    var panel = document.getElementById("role-panel");
    if (!panel) return;
    document.querySelectorAll("a[data-role-link]").forEach(function (a) {
      if (a.getAttribute("href") === "/roles/" + panel.dataset.roleId) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
  });
})();
