/*
 * Allyloop recipient page: progressive enhancement of the answer form.
 *
 * Without this script (or without X25519 in WebCrypto) the form posts as it is and the
 * server seals the answer on arrival. With it, the browser reads the form into the
 * contract's answers object, seals it with seal.js and posts only {kid, sealed} to the
 * JSON API. It fails closed: if sealing or sending fails, or seal.js is missing or broken,
 * nothing else is sent and the person is told; a send made while the support check is still
 * running waits for it. The key, info, padding and endpoint come from data- attributes.
 */
(function () {
  "use strict";

  var form = document.getElementById("answer-form");
  var problem = document.getElementById("answer-problem");
  var sent = document.getElementById("answer-sent");
  var summary = document.getElementById("form-problems");
  if (!form || !problem || !sent || !summary) return;

  var CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  var LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:[^\ud800-\udbff]|^)[\udc00-\udfff]/;
  var sending = false;
  // "checking" until seal.js's support check settles, then "browser" (seal here), "plain"
  // (no X25519 in WebCrypto: the form posts and the server seals) or "broken" (seal.js
  // missing or failing: nothing is sent at all).
  var mode = "checking";
  var lastClicked = null;

  function message(name) {
    return problem.getAttribute("data-msg-" + name) || problem.getAttribute("data-msg-failed");
  }

  // ``quiet``: said (the region is an alert) without moving the focus, for a passing state.
  function showProblem(text, focusTarget, quiet) {
    problem.textContent = "";
    var paragraph = document.createElement("p");
    paragraph.textContent = text;
    problem.appendChild(paragraph);
    problem.hidden = false;
    if (!quiet) (focusTarget || problem).focus();
  }

  function clearProblem() {
    problem.hidden = true;
    problem.textContent = "";
    clearFieldErrors();
    var marked = form.querySelectorAll("[aria-invalid]");
    for (var i = 0; i < marked.length; i += 1) marked[i].removeAttribute("aria-invalid");
  }

  function setBusy(busy) {
    sending = busy;
    form.setAttribute("aria-busy", busy ? "true" : "false");
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i += 1) buttons[i].disabled = busy;
  }

  // One problem with one field: shown beside the field and listed in the summary at the top.
  function invalid(field, text) {
    return { field: field, message: text };
  }

  // The same answers object the server's form parser makes: item-<id> fields, scale points as
  // integers (or "na"), one value for a choice, a list for a multi item; blanks are skipped.
  // Every problem found is pushed onto `problems`: all are shown at once.
  function readAnswers(problems) {
    var answers = {};
    var groups = form.querySelectorAll("fieldset[data-item]");
    for (var i = 0; i < groups.length; i += 1) {
      var group = groups[i];
      var id = group.getAttribute("data-item");
      var type = group.getAttribute("data-type");
      var chosen = [];
      var inputs = group.querySelectorAll("input[name='item-" + id + "']:checked");
      for (var j = 0; j < inputs.length; j += 1) if (inputs[j].value) chosen.push(inputs[j].value);
      if (!chosen.length) continue;
      if (type === "multi") {
        var exclusive = (group.getAttribute("data-exclusive") || "").split(" ").filter(Boolean);
        var clash = chosen.length > 1 && chosen.some(function (value) { return exclusive.indexOf(value) >= 0; });
        if (clash) {
          problems.push(invalid(group.querySelector("input"), group.getAttribute("data-exclusive-message")));
          continue;
        }
        answers[id] = chosen;
      } else if (type === "scale") {
        answers[id] = chosen[0] === "na" ? "na" : parseInt(chosen[0], 10);
      } else {
        answers[id] = chosen[0];
      }
    }
    return answers;
  }

  // The comment as the server's validate_comment wants it, or null; refuses to guess an audience.
  function readComment(problems) {
    var box = form.elements.namedItem("comment");
    var text = box ? box.value.replace(/\r\n?/g, "\n").trim() : "";
    // Only invisible characters (which the server drops) is no comment, as without JavaScript.
    if (!text.replace(/[\p{Cf}\s]/gu, "")) return null;
    var max = parseInt(box.getAttribute("maxlength"), 10);
    if (Array.from(text).length > max) problems.push(invalid(box, message("too-long")));
    else if (CONTROL.test(text) || LONE_SURROGATE.test(text)) problems.push(invalid(box, message("characters")));
    var audience = form.querySelector("input[name=audience]:checked");
    if (!audience) problems.push(invalid(form.querySelector("input[name=audience]"), message("audience")));
    return { text: text, audience: audience ? audience.value : null };
  }

  function clearFieldErrors() {
    var shown = document.querySelectorAll("[data-js-error]");
    for (var i = 0; i < shown.length; i += 1) shown[i].remove();
    summary.hidden = true;
    summary.textContent = "";
  }

  // Each message beside its field, and a summary at the top whose links lead to them.
  function showFieldErrors(problems) {
    var list = document.createElement("ul");
    problems.forEach(function (found, index) {
      var field = found.field;
      var holder = field.closest("fieldset") || field.parentNode;
      var note = document.createElement("p");
      note.className = "error";
      note.id = "js-error-" + index;
      note.setAttribute("data-js-error", "");
      note.textContent = found.message;
      var legend = holder.querySelector("legend");
      if (field.tagName === "TEXTAREA") holder.insertBefore(note, field);
      else if (legend) legend.insertAdjacentElement("afterend", note);
      else holder.insertBefore(note, holder.firstChild);
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + note.id).trim());
      if (!field.id) field.id = "js-field-" + index;
      var details = field.closest("details");
      if (details) details.open = true;
      var link = document.createElement("a");
      link.href = "#" + field.id;
      var what = "";
      if (legend) {
        var words = legend.cloneNode(true);
        var step = words.querySelector(".step");
        if (step) step.remove();
        what = words.textContent.replace(/\s+/g, " ").trim();
      }
      link.textContent = what ? what + ": " + found.message : found.message;
      var entry = document.createElement("li");
      entry.appendChild(link);
      list.appendChild(entry);
    });
    var intro = document.createElement("p");
    intro.textContent = summary.getAttribute("data-intro");
    summary.appendChild(intro);
    summary.appendChild(list);
    summary.hidden = false;
    summary.focus();
  }

  function showReceipt(receipt) {
    var code = sent.querySelector("[data-receipt]");
    if (code) code.textContent = receipt;
    form.hidden = true;
    var before = document.querySelectorAll("[data-before-sending]");
    for (var i = 0; i < before.length; i += 1) before[i].hidden = true;
    problem.hidden = true;
    sent.hidden = false;
    var heading = sent.querySelector("h1, h2");
    (heading || sent).focus();
  }

  // A 503 says nothing was stored and when to try again (Retry-After). When a whole company
  // is asked at once, the page sends the same sealed answer again by itself, a few times,
  // rather than asking the person to start over. The same envelope is safe to send twice: a
  // stored one spends the link, and the server refuses a replayed one. A failed connection is
  // not retried: the answer may have arrived, and the person decides.
  var RETRIES = 3;
  var LONGEST_WAIT_SECONDS = 30;

  function waitFor(response) {
    var seconds = parseInt(response.headers.get("Retry-After"), 10);
    return Math.min(seconds >= 0 ? seconds : 5, LONGEST_WAIT_SECONDS);
  }

  function pause(seconds) {
    return new Promise(function (resolve) {
      setTimeout(resolve, seconds * 1000);
    });
  }

  async function postOnce(envelope) {
    var response;
    try {
      response = await fetch(form.getAttribute("data-endpoint"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(envelope),
        credentials: "omit",
        referrerPolicy: "no-referrer",
        cache: "no-store",
        redirect: "error",
      });
    } catch (error) {
      return { problem: "offline" };
    }
    if (response.status === 202) {
      var receipt = "";
      try {
        receipt = String((await response.json()).receipt || "");
      } catch (error) {
        receipt = ""; // accepted all the same: the 202 is what counts
      }
      return { receipt: receipt || "-" };
    }
    if (response.status === 410 || response.status === 404) return { problem: "gone" };
    if (response.status === 429) return { problem: "busy" };
    if (response.status === 503) return { problem: "unavailable", retryIn: waitFor(response) };
    return { problem: "rejected" };
  }

  async function post(envelope) {
    for (var attempt = 0; ; attempt += 1) {
      var outcome = await postOnce(envelope);
      if (outcome.retryIn === undefined || attempt >= RETRIES) return outcome;
      showProblem(message("retrying"), null, true);
      await pause(outcome.retryIn);
    }
  }

  async function submit(declined) {
    var answers = {};
    var comment = null;
    if (!declined) {
      var problems = [];
      answers = readAnswers(problems);
      comment = readComment(problems);
      if (problems.length) {
        showFieldErrors(problems);
        return;
      }
    }
    var sealed;
    try {
      sealed = await window.AllyloopSeal.sealAnswer({
        answers: answers,
        comment: comment,
        padTo: parseInt(form.getAttribute("data-pad-to"), 10),
        publicKey: form.getAttribute("data-public-key"),
        info: form.getAttribute("data-info"),
      });
    } catch (error) {
      // Fail closed: no plain-text fallback on this path.
      showProblem(message(error && error.code === "too_long" ? "too-long" : "seal-failed"));
      return;
    }
    var outcome = await post({ kid: form.getAttribute("data-kid"), sealed: sealed });
    if (outcome.receipt) showReceipt(outcome.receipt);
    else showProblem(message(outcome.problem));
  }

  // The support check, settled to a mode. A missing AllyloopSeal (seal.js did not load or
  // did not run) or one that throws is a sealing failure, never a reason to post plain text.
  function detect() {
    var seal = window.AllyloopSeal;
    if (!seal || typeof seal.supported !== "function" || typeof seal.sealAnswer !== "function") {
      return Promise.resolve("broken");
    }
    try {
      return Promise.resolve(seal.supported()).then(
        function (ok) {
          if (ok === true) return "browser";
          return ok === false ? "plain" : "broken";
        },
        function () {
          return "broken";
        }
      );
    } catch (error) {
      return Promise.resolve("broken");
    }
  }

  // The documented fallback for a send that waited on the check and found no X25519: post
  // the plain form as the browser would have, keeping which button was pressed.
  function submitPlain(submitter) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(submitter || undefined);
      return;
    }
    if (submitter && submitter.name) {
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = submitter.name;
      carried.value = submitter.value;
      form.appendChild(carried);
    }
    form.submit();
  }

  function onSubmit(event) {
    if (mode === "plain") return; // no X25519 here: the form posts and the server seals it
    event.preventDefault();
    if (sending) return;
    clearProblem();
    var submitter = event.submitter || lastClicked;
    var declined = Boolean(submitter && submitter.name === "decline");
    setBusy(true);
    ready
      .then(function (settled) {
        if (settled === "plain") {
          setBusy(false);
          submitPlain(submitter);
          return undefined;
        }
        if (settled !== "browser") throw new Error("seal.js is missing or broken");
        return submit(declined);
      })
      .catch(function () {
        showProblem(message("seal-failed"));
      })
      .finally(function () {
        setBusy(false);
      });
  }

  // "Clear" buttons let a person take back an answer: every question stays skippable.
  function wireClearButtons() {
    var buttons = form.querySelectorAll("button[data-clear]");
    Array.prototype.forEach.call(buttons, function (button) {
      var group = button.closest("fieldset");
      var inputs = group.querySelectorAll("input");
      function refresh() {
        button.hidden = !Array.prototype.some.call(inputs, function (input) { return input.checked; });
      }
      button.addEventListener("click", function () {
        Array.prototype.forEach.call(inputs, function (input) { input.checked = false; });
        refresh();
        if (inputs.length) inputs[0].focus();
      });
      group.addEventListener("change", refresh);
      refresh();
    });
  }

  // Submit is held from the first moment this script runs: a send before the check settles
  // waits for it, so the plain form can never slip out while sealing would have worked.
  var ready = detect().then(function (settled) {
    mode = settled;
    form.setAttribute("data-sealing", settled);
    var note = document.getElementById("seal-note");
    if (settled === "browser" && note && note.getAttribute("data-browser")) {
      note.textContent = note.getAttribute("data-browser");
    }
    return settled;
  });
  // The buttons that send this form, "I'd rather not answer" at the top among them.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button[type=submit]") : null;
    if (button && button.form === form) lastClicked = button;
  });
  // How far along: the count of questions answered, as a person works down the page.
  var progress = document.getElementById("progress");
  function showProgress() {
    if (!progress) return;
    var groups = form.querySelectorAll("fieldset[data-item]");
    var answered = Array.prototype.filter.call(groups, function (group) {
      return group.querySelector("input:checked");
    }).length;
    var bar = progress.querySelector("progress");
    bar.value = answered;
    bar.hidden = false;
    progress.querySelector("[data-progress-text]").textContent = progress
      .getAttribute("data-of")
      .replace("{answered}", String(answered))
      .replace("{total}", progress.getAttribute("data-total"));
  }
  form.addEventListener("change", showProgress);
  form.addEventListener("click", function (event) {
    if (event.target && event.target.hasAttribute && event.target.hasAttribute("data-clear")) showProgress();
  });
  form.addEventListener("submit", onSubmit);
  wireClearButtons();
})();
