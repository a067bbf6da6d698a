/* The agent desktop: follows the agent's events WebSocket (the same messages as
   /api/v1/agents/{id}/events): each state change refreshes the status card, a call's
   screen pop shows the lead and the campaign's dispositions, and the disposition form is
   enabled once the call has ended; a disposition's hotkey picks it (and saves once ended).
   Lead data is written with textContent only (never parsed as HTML). */
(function () {
  "use strict";

  var EMPTY = {
    offline: "You are logged out. Log in to take calls.",
    available: "Waiting for a call…",
    paused: "You are paused. Choose “Ready for calls” to take calls again.",
    on_call: "Connecting…",
    wrap_up: "The call has ended."
  };

  function humanise(key) {
    var text = String(key).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function start(root) {
    var agentId = root.getAttribute("data-agent");
    var pop = document.getElementById("call-pop");
    var empty = document.getElementById("call-empty");
    var emptyText = document.getElementById("call-empty-text");
    var kind = document.getElementById("call-kind");
    var connection = document.getElementById("connection");
    var state = null;
    var pending = null;
    var call = null;      // {call_id, lead} of the call on screen
    var preview = false;
    var opened = 0;
    var retry = 1000;

    function set(name, value) {
      var el = pop.querySelector("[data-pop='" + name + "']");
      if (el) { el.textContent = value === null || value === undefined || value === "" ? "—" : String(value); }
    }

    function localTime(zones) {
      if (!zones || !zones.length) { return "—"; }
      try {
        return new Intl.DateTimeFormat("en-GB", {
          timeZone: zones[0], hour: "2-digit", minute: "2-digit", weekday: "short"
        }).format(new Date()) + " (" + zones[0] + ")";
      } catch (ignored) {
        return zones[0];
      }
    }

    function liveLabel() {
      // A callback (the lead called the campaign's number back) says so and who it is.
      if (!call || !call.inbound) { return "Live call"; }
      return "Callback from " + ((call.lead.fields || {}).name || call.lead.phone_e164);
    }

    function showLead(lead, callId) {
      set("campaign_name", lead.campaign_name);
      set("call", callId ? "call #" + callId : "preview");
      set("phone_e164", lead.phone_e164);
      set("place", [lead.region, lead.subdivision].filter(Boolean).join(" · "));
      set("local_time", localTime(lead.time_zones));
      set("attempts_count", lead.attempts_count);
      set("last", [lead.last_outcome, lead.last_disposition].filter(Boolean).map(humanise).join(" · "));
      var list = document.getElementById("lead-fields");
      list.textContent = "";
      var fields = lead.fields || {};
      Object.keys(fields).forEach(function (key) {
        var dt = document.createElement("dt");
        dt.textContent = humanise(key);
        var dd = document.createElement("dd");
        var value = fields[key];
        dd.textContent = value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
        var pair = document.createElement("div");
        pair.appendChild(dt);
        pair.appendChild(dd);
        list.appendChild(pair);
      });
      var moved = document.getElementById("transfer-pop");
      if (moved) {
        // A transferred call: who handed it over and what they wrote for this agent.
        moved.hidden = !lead.transferred_from;
        set("transferred_by", lead.transferred_by);
        set("transferred_from", lead.transferred_from);
        set("transfer_notes", lead.transfer_notes);
      }
      pop.hidden = false;
      empty.hidden = true;
      kind.hidden = false;
      loadPastCalls();
    }

    function loadPastCalls() {
      // The lead's earlier calls and their recordings, rendered by the server.
      var box = document.getElementById("past-calls");
      if (!box || !window.htmx) { return; }
      box.textContent = "";
      window.htmx.ajax("GET", "/ui/agents/" + agentId + "/calls", { target: "#past-calls", swap: "innerHTML" });
    }

    function clearMessages() {
      var area = document.getElementById("flash");
      if (area) { area.textContent = ""; }
    }

    function showSaved(event) {
      // The saved disposition's confirmation sits in the form: bring it into view.
      var note = document.getElementById("disposition-saved");
      if (note && event.detail && event.detail.target && event.detail.target.id === "disposition") {
        note.scrollIntoView({ block: "nearest" });
      }
    }

    function setDispositions(items) {
      var select = document.querySelector("[data-dispositions]");
      if (!select || !items) { return; }
      var chosen = select.value;
      while (select.options.length > 1) { select.remove(1); }
      items.forEach(function (item) {
        var option = document.createElement("option");
        option.value = item.code;
        option.textContent = (item.hotkey ? item.hotkey + " · " : "") + item.label;
        if (item.hotkey) { option.setAttribute("data-hotkey", item.hotkey); }
        option.selected = item.code === chosen;
        select.appendChild(option);
      });
    }

    function showScript(html) {
      // The server renders scripts in a sandbox and escapes everything but <br>, so this
      // HTML holds no markup of the script's author nor of a lead field.
      var box = document.getElementById("call-script");
      if (!box) { return; }
      document.getElementById("script-text").innerHTML = html || "";
      box.hidden = !html;
    }

    function hotkey(event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
      var form = document.getElementById("disposition");
      if (!form || !call) { return; }
      var select = form.querySelector("[data-dispositions]");
      var option = select.querySelector("option[data-hotkey='" + event.key.toLowerCase() + "']");
      if (!option) { return; }
      event.preventDefault();
      select.value = option.value;
      var save = form.querySelector("[data-save]");
      if (!save.disabled) { form.requestSubmit(save); }
    }

    function clearCall() {
      showScript(null);
      call = null;
      preview = false;
      pop.hidden = true;
      empty.hidden = false;
      kind.hidden = true;
      document.getElementById("preview-actions").hidden = true;
      emptyText.textContent = EMPTY[state] || EMPTY.available;
    }

    function syncForm() {
      var form = document.getElementById("disposition");
      if (!form) { return; }
      var field = form.querySelector("[data-call-id]");
      var save = form.querySelector("[data-save]");
      var hint = form.querySelector("[data-disposition-hint]");
      if (call && !field.value) { field.value = call.call_id; }
      if (!call && form.hasAttribute("data-saved")) { field.value = ""; }
      var ready = Boolean(field.value) && state === "wrap_up";
      save.disabled = !ready;
      form.classList.toggle("is-active", Boolean(call));
      if (ready) {
        hint.textContent = "The call has ended: choose the result and save.";
      } else if (call) {
        hint.textContent = "On the call. Save the result when it has ended.";
      } else {
        hint.textContent = "Choose how the call went once it has ended.";
      }
    }

    // One status fetch at a time, and one more if the state changed meanwhile: answers
    // arriving out of order must not leave an older state on screen.
    var refreshing = false;
    var again = false;
    function refreshStatus() {
      if (refreshing) { again = true; return; }
      refreshing = true;
      var done = function () {
        refreshing = false;
        if (again) { again = false; refreshStatus(); }
      };
      window.htmx.ajax("GET", "/ui/agents/" + agentId + "/status", { target: "#status", swap: "outerHTML" })
        .then(done, done);
    }

    // The transfer card follows the call: a form during a call, the leg while one runs.
    // One fetch at a time, and one more if asked meanwhile (the newest state wins).
    var fetchingCard = false;
    var cardAgain = false;
    function refreshTransfer() {
      if (!document.getElementById("transfer")) { return; }
      if (fetchingCard) { cardAgain = true; return; }
      fetchingCard = true;
      var done = function () {
        fetchingCard = false;
        if (cardAgain) { cardAgain = false; refreshTransfer(); }
      };
      window.htmx.ajax("GET", "/ui/agents/" + agentId + "/transfer", { target: "#transfer", swap: "outerHTML" })
        .then(done, done);
    }

    function handle(message, live) {
      if (message.type === "state") {
        // a held pause (or its end) keeps the state "available": follow "pending" too
        var changed = message.state !== state || (message.pending || null) !== pending;
        state = message.state;
        pending = message.pending || null;
        if (state === "on_call" || state === "wrap_up") {
          if (call && message.call_id && call.call_id !== message.call_id) { clearCall(); }
          kind.textContent = state === "on_call" ? (preview ? "Preview" : liveLabel()) : "Call ended";
        } else {
          clearCall();
        }
        if (!call && !preview) { emptyText.textContent = EMPTY[state] || EMPTY.available; }
        if (live && changed) { refreshStatus(); }
        if (live) { refreshTransfer(); }
        if (live && message.call_id && !call && (state === "wrap_up" || state === "on_call") && opened > 1) {
          window.location.reload();  // reconnected during a call whose screen pop was missed
        }
      } else if (message.type === "call") {
        call = { call_id: message.call_id, lead: message.lead, inbound: Boolean(message.inbound) };
        preview = false;
        document.getElementById("preview-actions").hidden = true;
        var form = document.getElementById("disposition");
        if (form) {
          form.querySelector("[data-call-id]").value = message.call_id;
          form.removeAttribute("data-saved");
        }
        setDispositions(message.dispositions);
        showScript(message.script);
        showLead(message.lead, message.call_id);
        kind.textContent = state === "wrap_up" ? "Call ended" : liveLabel();
        clearMessages();  // "logged in" and other news are old once a call is on screen
        if (live) { refreshTransfer(); }
      } else if (message.type === "preview") {
        preview = true;
        showLead(message.lead, null);
        document.getElementById("preview-actions").hidden = false;
        kind.textContent = "Preview";
      }
      syncForm();
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      var socket = new WebSocket(scheme + "//" + window.location.host + "/ui/agents/" + agentId + "/events");
      socket.addEventListener("open", function () {
        opened += 1;
        retry = 1000;
        connection.textContent = "Connected";
        connection.setAttribute("data-connection", "live");
      });
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (ignored) { return; }
        handle(message, true);
      });
      socket.addEventListener("close", function (event) {
        if (event.code === 4401) {  // the token was revoked: the page shows the sign-in
          window.location.reload();
          return;
        }
        connection.textContent = "Reconnecting…";
        connection.setAttribute("data-connection", "lost");
        window.setTimeout(connect, retry);
        retry = Math.min(retry * 2, 15000);
      });
    }

    var initial = JSON.parse(document.getElementById("desk-initial").textContent);
    initial.forEach(function (message) { handle(message, false); });
    refreshTransfer();
    document.body.addEventListener("htmx:afterSwap", syncForm);
    document.body.addEventListener("htmx:afterSwap", showSaved);
    document.addEventListener("keydown", hotkey);
    connect();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-desk]");
    if (root) { start(root); }
  });
})();
