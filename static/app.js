/*
 * app.js: progressive enhancement for the app's pages. Every page works without it; behaviour is bound by
 * data attributes, never inline handlers, so the CSP can forbid inline script.
 *
 *   data-select-all="NAME"   checkbox that checks or clears every input[name=NAME] checkbox
 *   data-count-for="NAME"    element showing how many NAME checkboxes are checked
 *   data-confirm="TEXT"      button or link that asks confirm(TEXT) first
 *   data-once                form that may be submitted once (buttons disabled, class is-busy)
 *   data-b24-pick="contact|company" data-form="ID"   opens the portal's CRM picker and sends the form with
 *                                                     each chosen id as an `add` field (names come back as chips)
 *   data-autosubmit          select or checkbox that submits its form on change
 */
(function (window, document) {
  'use strict';

  function each(selector, root, fn) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  function boxesNamed(name) {
    return Array.prototype.filter.call(document.getElementsByName(name), function (el) {
      return el.type === 'checkbox' && !el.hasAttribute('data-select-all');
    });
  }

  // Counters and the master checkbox follow the boxes: all, none, or some (indeterminate).
  function refreshSelection(name) {
    var boxes = boxesNamed(name);
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    each('[data-count-for]', document, function (el) {
      if (el.getAttribute('data-count-for') === name) { el.textContent = String(checked); }
    });
    each('[data-select-all]', document, function (el) {
      if (el.getAttribute('data-select-all') !== name) { return; }
      el.checked = boxes.length > 0 && checked === boxes.length;
      el.indeterminate = checked > 0 && checked < boxes.length;
    });
  }

  function selectionNames() {
    var names = {};
    each('[data-select-all], [data-count-for]', document, function (el) {
      names[el.getAttribute('data-select-all') || el.getAttribute('data-count-for')] = true;
    });
    return Object.keys(names);
  }

  document.addEventListener('change', function (event) {
    var el = event.target;
    if (!el || el.nodeType !== 1) { return; }
    var master = el.getAttribute('data-select-all');
    if (master) {
      boxesNamed(master).forEach(function (box) {
        if (!box.disabled) { box.checked = el.checked; }
      });
      refreshSelection(master);
    } else if (el.type === 'checkbox' && el.name && selectionNames().indexOf(el.name) >= 0) {
      refreshSelection(el.name);
    }
    if (el.hasAttribute('data-autosubmit') && el.form) {
      // requestSubmit fires the submit event, so data-once and validation still apply.
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });

  // A click also comes from Enter in a text field (implicit submission), so this covers the keyboard too.
  document.addEventListener('click', function (event) {
    var el = event.target && event.target.closest ? event.target.closest('[data-confirm]') : null;
    if (el && !window.confirm(el.getAttribute('data-confirm'))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute('data-once')) { return; }
    if (form.classList.contains('is-busy')) {
      event.preventDefault();
      return;
    }
    form.classList.add('is-busy');
    var submitter = event.submitter;
    // Disabled later, not now: a disabled submitter would drop its own name=value from the request.
    window.setTimeout(function () {
      each('button[type="submit"], button:not([type]), input[type="submit"]', form, function (b) {
        b.disabled = true;
        if (b === submitter) { b.classList.add('is-busy'); }
      });
    }, 0);
  });

  // Back-forward cache restores a page as it was left: busy forms must work again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) { return; }
    each('form[data-once].is-busy', document, function (form) {
      form.classList.remove('is-busy');
      each('.is-busy', form, function (b) { b.classList.remove('is-busy'); });
      each('button, input[type="submit"]', form, function (b) { b.disabled = false; });
    });
  });

  // The picker's choices join the change as `add` fields; the form is then sent so the page shows them as
  // chips with names. Bound by delegation, so buttons in re-rendered parts work too.
  function addIds(form, ids) {
    ids.forEach(function (id) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'add';
      input.value = String(id);
      form.appendChild(input);
    });
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('[data-b24-pick]') : null;
    var frame = window.B24Frame;
    if (!button || !frame || !frame.inFrame) { return; }
    event.preventDefault();
    var type = button.getAttribute('data-b24-pick');
    var form = document.getElementById(button.getAttribute('data-form') || '');
    if (!form || (type !== 'contact' && type !== 'company') || button.getAttribute('aria-busy') === 'true') {
      return;
    }
    button.setAttribute('aria-busy', 'true');
    frame.selectCRM({entityType: [type], multiple: true}).then(function (result) {
      var ids = frame.crmIds(result, type);
      if (ids.length) { addIds(form, ids); }
    }, function () { /* the picker was closed or failed: nothing to add */ }).then(function () {
      button.removeAttribute('aria-busy');
    });
  });

  // Outside a portal frame there is no CRM picker to open.
  function hidePickers() {
    var frame = window.B24Frame;
    each('[data-b24-pick]', document, function (button) {
      button.hidden = !frame || !frame.inFrame;
    });
  }

  function start() {
    selectionNames().forEach(refreshSelection);
    hidePickers();
  }

  // htmx replaces parts of the page: the same start-up applies to what it brought in.
  document.addEventListener('htmx:afterSettle', start);

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})(window, document);
