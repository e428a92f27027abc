/*
 * b24frame.js: a small client of the Bitrix24 frame protocol (the parent-window messages that BX24.js and
 * b24jssdk speak), so pages need no script from an outside host and the CSP can stay `script-src 'self'`.
 *
 * Protocol, in short:
 *  - The portal names our iframe `DOMAIN|PROTOCOL|APP_SID` (PROTOCOL 1 = https). The name survives redirects
 *    inside the frame, so it is read first; the launch URL's query is the fallback.
 *  - We post strings `command:paramsJSON:callback:APP_SID` to the portal's origin, leaving empty parts out.
 *  - The portal answers `callback:JSON`, only when a callback was given.
 * Outside a portal frame every call resolves to null and sends nothing.
 */
(function (window, document) {
  'use strict';

  var INIT_TIMEOUT_MS = 3000;
  var ANSWER_TIMEOUT_MS = 10000;

  function queryParam(name) {
    var pairs = (window.location.search || '').replace(/^\?/, '').split('&');
    for (var i = 0; i < pairs.length; i++) {
      var eq = pairs[i].indexOf('=');
      var key = eq < 0 ? pairs[i] : pairs[i].slice(0, eq);
      if (key === name) {
        try {
          return decodeURIComponent(pairs[i].slice(eq + 1).replace(/\+/g, ' '));
        } catch (e) {
          return null;
        }
      }
    }
    return null;
  }

  // Only well-formed parts are accepted: the domain becomes a postMessage target origin.
  function makeIdentity(domain, protocol, sid) {
    if (!domain || !/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(domain)) { return null; }
    if (protocol !== '0' && protocol !== '1') { return null; }
    if (!sid || !/^[A-Za-z0-9_-]+$/.test(sid)) { return null; }
    return {domain: domain, protocol: Number(protocol), sid: sid};
  }

  function readIdentity() {
    var parts = String(window.name || '').split('|');
    var fromName = parts.length === 3 ? makeIdentity(parts[0], parts[1], parts[2]) : null;
    return fromName || makeIdentity(queryParam('DOMAIN'), queryParam('PROTOCOL'), queryParam('APP_SID'));
  }

  var hasParent = false;
  try {
    hasParent = window.parent && window.parent !== window;
  } catch (e) {
    hasParent = false;
  }
  var identity = hasParent ? readIdentity() : null;
  var inFrame = !!identity;
  var parentOrigin = identity ? (identity.protocol === 1 ? 'https' : 'http') + '://' + identity.domain : null;

  var pending = {};
  var seq = 0;

  // Callback ids never contain ':' and never start with '[', '{' or '"', so the portal cannot mistake them
  // for params when a message has only three parts.
  function nextCallback() {
    seq += 1;
    return 'b24f' + seq + 'x' + Math.floor(Math.random() * 1e9).toString(36);
  }

  function encode(command, params, callback) {
    var parts = [command];
    if (params !== undefined && params !== null) { parts.push(JSON.stringify(params)); }
    if (callback) { parts.push(callback); }
    parts.push(identity.sid);
    return parts.join(':');
  }

  /*
   * Sends a command. With `answer`, resolves to the portal's answer, or null after `timeout` ms
   * (0 = wait for ever, for dialogs the user may keep open). Without, resolves to null once sent.
   */
  function send(command, params, answer, timeout) {
    if (!inFrame) { return Promise.resolve(null); }
    if (!answer) {
      // With params, a callback goes along all the same (never registered, so any answer is dropped): the
      // portal takes the second-last part as the callback, and params may hold colons of their own.
      var hasParams = params !== undefined && params !== null;
      window.parent.postMessage(encode(command, params, hasParams ? nextCallback() : null), parentOrigin);
      return Promise.resolve(null);
    }
    return new Promise(function (resolve) {
      var callback = nextCallback();
      var timer = null;
      pending[callback] = function (data) {
        if (timer) { clearTimeout(timer); }
        delete pending[callback];
        resolve(data);
      };
      if (timeout) {
        timer = setTimeout(function () { pending[callback](null); }, timeout);
      }
      window.parent.postMessage(encode(command, params, callback), parentOrigin);
    });
  }

  window.addEventListener('message', function (event) {
    if (!inFrame || event.origin !== parentOrigin || event.source !== window.parent) { return; }
    if (typeof event.data !== 'string') { return; }
    var colon = event.data.indexOf(':');
    if (colon < 1) { return; }
    var callback = event.data.slice(0, colon);
    if (!Object.prototype.hasOwnProperty.call(pending, callback)) { return; }
    var data = null;
    try {
      data = JSON.parse(event.data.slice(colon + 1));
    } catch (e) {
      data = null;
    }
    pending[callback](data);
  });

  var initPromise = null;

  function init() {
    if (!initPromise) {
      initPromise = send('getInitData', null, true, INIT_TIMEOUT_MS);
    }
    return initPromise;
  }

  // The page's content height. documentElement.scrollHeight never drops below the frame's own height, so
  // alone it would let the frame grow but never shrink; the root element's box follows the content.
  function documentHeight() {
    var root = document.documentElement;
    var body = document.body;
    var height = root.getBoundingClientRect().height;
    if (body) { height = Math.max(height, body.scrollHeight); }
    return Math.ceil(height) || root.scrollHeight;
  }

  function resizeWindow(width, height) {
    return send('resizeWindow', {width: width, height: height}, true, ANSWER_TIMEOUT_MS);
  }

  var lastFitHeight = -1;

  function fitWindow() {
    var height = documentHeight();
    lastFitHeight = height;
    return resizeWindow('100%', height);
  }

  // Entity ids from a selectCRM answer: {contact: [{id: 'C_12'}]} -> [12]; unknown shapes give [].
  function crmIds(result, entityType) {
    var items = result && result[entityType];
    var seen = {};
    var ids = [];
    if (!items || typeof items.length !== 'number') { return ids; }
    for (var i = 0; i < items.length; i++) {
      var raw = items[i] && typeof items[i] === 'object' ? items[i].id : items[i];
      var match = /^(?:[A-Za-z]+_)?([0-9]+)$/.exec(String(raw));
      var id = match ? Number(match[1]) : 0;
      if (id > 0 && !seen[id]) {
        seen[id] = true;
        ids.push(id);
      }
    }
    return ids;
  }

  var B24Frame = {
    inFrame: inFrame,
    identity: identity,
    parentOrigin: parentOrigin,
    init: init,
    ready: null,
    installFinish: function () { return send('setInstallFinish', null, false); },
    resizeWindow: resizeWindow,
    fitWindow: fitWindow,
    setTitle: function (text) { return send('setTitle', {title: String(text)}, true, ANSWER_TIMEOUT_MS); },
    refreshAuth: function () { return send('refreshAuth', null, true, ANSWER_TIMEOUT_MS); },
    selectCRM: function (options) {
      var o = options || {};
      var params = {entityType: o.entityType || ['contact'], multiple: o.multiple !== false};
      if (o.value) { params.value = o.value; }
      return send('selectCRM', params, true, 0);
    },
    crmIds: crmIds,
    send: send,
    documentHeight: documentHeight
  };
  B24Frame.ready = init();
  window.B24Frame = B24Frame;

  // Keeps the frame as tall as the content: one resize per animation frame at most, only on change.
  function autofit() {
    var scheduled = false;
    function schedule() {
      if (scheduled) { return; }
      scheduled = true;
      window.requestAnimationFrame(function () {
        scheduled = false;
        if (documentHeight() !== lastFitHeight) { fitWindow(); }
      });
    }
    if (document.readyState === 'complete') {
      fitWindow();
    } else {
      window.addEventListener('load', function () { fitWindow(); });
    }
    if (window.ResizeObserver) {
      new window.ResizeObserver(schedule).observe(document.body);
    } else {
      window.addEventListener('resize', schedule);
    }
  }

  function start() {
    var body = document.body;
    if (!inFrame || !body) { return; }
    document.documentElement.classList.add('b24-in-frame');
    if (body.hasAttribute('data-b24-title')) {
      B24Frame.setTitle(body.getAttribute('data-b24-title'));
    }
    if (body.hasAttribute('data-b24-autofit')) { autofit(); }
    if (body.hasAttribute('data-b24-install-finish')) {
      // As b24jssdk does, skip only when the portal says this is not an install; without an answer, try anyway
      // rather than leave the app half-installed.
      init().then(function (data) {
        if (!data || data.INSTALL !== false) { B24Frame.installFinish(); }
      });
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})(window, document);
