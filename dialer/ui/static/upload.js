/* CSV uploads: drag and drop or the file picker; the file is streamed as the request body
   (never read into memory) with the session's CSRF token in a header. The answer is the
   import API's JSON: 202 with the import (its card is then fetched and polled by htmx), or
   an error with the field it concerns, shown next to that field. */
(function () {
  "use strict";

  function size(bytes) {
    if (bytes < 1024) { return bytes + " B"; }
    if (bytes < 1048576) { return (bytes / 1024).toFixed(1) + " KB"; }
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function capital(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function setup(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-dropzone]");
    var button = form.querySelector("[data-upload-button]");
    var label = form.querySelector("[data-file-name]");
    var bar = form.querySelector("[data-upload-progress]");
    var status = form.querySelector("[data-upload-status]");
    var hint = label.textContent;
    var file = null;

    function clearErrors() {
      form.querySelectorAll("[data-error-for]").forEach(function (el) {
        el.hidden = true;
        el.textContent = "";
      });
      form.querySelectorAll("[aria-invalid]").forEach(function (el) {
        el.removeAttribute("aria-invalid");
      });
    }

    function showError(field, message) {
      var place = form.querySelector("[data-error-for='" + field + "']");
      var owner = form.querySelector("[name='" + field + "']");
      if (!place || !owner || owner.type === "file") {
        place = form.querySelector("[data-error-for='file']");
        owner = input;
      }
      place.textContent = message;
      place.hidden = false;
      if (owner !== input) {
        owner.setAttribute("aria-invalid", "true");
        owner.focus();
      }
      status.textContent = "";
    }

    function choose(chosen) {
      file = chosen || null;
      label.textContent = file ? file.name + " · " + size(file.size) : hint;
      zone.classList.toggle("has-file", Boolean(file));
      button.disabled = !file;
      clearErrors();
    }

    function finished(xhr) {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = null; }
      bar.hidden = true;
      if (xhr.status === 202 && body && body.id) {
        status.textContent = "Uploaded. Importing " + (body.name || "the list") + "…";
        var empty = document.getElementById("no-imports");
        if (empty) { empty.remove(); }
        window.htmx.ajax("GET", "/ui/imports/" + body.id,
          { target: form.getAttribute("data-target"), swap: "afterbegin" });
        input.value = "";
        choose(null);
        return;
      }
      button.disabled = !file;
      if (body && body.error) {
        showError(body.field || "file", capital(body.error) + ".");
      } else {
        showError("file", "The upload was refused (HTTP " + xhr.status + "). Reload the page and try again.");
      }
    }

    function send() {
      var params = new URLSearchParams();
      form.querySelectorAll("[data-option]").forEach(function (el) {
        if (el.value.trim()) { params.set(el.name, el.value.trim()); }
      });
      params.set("file_name", file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") + "?" + params.toString());
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.setRequestHeader("Content-Type", "text/csv");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable && event.total) {
          bar.value = Math.round(100 * event.loaded / event.total);
        }
      });
      xhr.addEventListener("load", function () { finished(xhr); });
      xhr.addEventListener("error", function () {
        bar.hidden = true;
        button.disabled = false;
        showError("file", "The upload did not complete: the connection was lost or the file is too large.");
      });
      clearErrors();
      button.disabled = true;
      bar.value = 0;
      bar.hidden = false;
      status.textContent = "Sending " + file.name + "…";
      xhr.send(file);
    }

    // An import ended (its card's last poll says so): "Importing …" is no longer true.
    document.body.addEventListener("import-done", function () {
      if (status.textContent.indexOf("Uploaded.") === 0) { status.textContent = ""; }
    });
    input.addEventListener("change", function () { choose(input.files[0]); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.remove("is-over");
      });
    });
    zone.addEventListener("drop", function (event) {
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) { choose(files[0]); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (file) { send(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(setup);
  });
})();
