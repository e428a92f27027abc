(function () {
  if (!SANDBOX) { return; }
  var frame = document.getElementById('app-frame');
  var form = document.getElementById('app-launch-form');
  var init = SANDBOX.init;
  var picker = document.getElementById('crm-picker');
  window.SANDBOX_LOG = [];
  function reply(callback, data) {
    if (!callback) { return; }
    frame.contentWindow.postMessage(callback + ':' + JSON.stringify(data === undefined ? {} : data), SANDBOX.appOrigin);
  }
  function post(path, body) {
    return fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body || {})})
      .then(function (r) { return r.json(); });
  }
  function parse(data) {
    if (data && typeof data === 'object') {
      return {command: data.method, params: data.params, callback: data.callback, sid: data.appSid};
    }
    if (typeof data !== 'string') { return null; }
    var parts = data.split(':');
    var m = {command: parts[0], params: null, callback: null, sid: null};
    if (parts.length >= 4) {
      m.sid = parts[parts.length - 1];
      m.callback = parts[parts.length - 2];
      m.params = parts.slice(1, parts.length - 2).join(':');
    } else if (parts.length === 3) {
      m.sid = parts[2];
      if (/^[\[{"]/.test(parts[1])) { m.params = parts[1]; } else { m.callback = parts[1]; }
    } else if (parts.length === 2) {
      m.sid = parts[1];
    }
    if (typeof m.params === 'string') {
      try { m.params = m.params ? JSON.parse(m.params) : null; } catch (e) { m.params = null; }
    }
    return m;
  }
  var handlers = {
    getInitData: function (p, cb) { reply(cb, init); },
    setInstallFinish: function () {
      post(SANDBOX.base + '_sandbox/install-finish').then(function () {
        location.href = SANDBOX.base + '?user=' + SANDBOX.userId + '&lang=' + init.LANG;
      });
    },
    setInstall: function (p, cb) { reply(cb, {}); },
    resizeWindow: function (p, cb) {
      p = p || {};
      var width = p.width === '100%' || p.width === undefined ? '100%' : (parseInt(p.width, 10) || 0) + 'px';
      var height = parseInt(p.height, 10);
      frame.style.width = width;
      if (height > 0) { frame.style.height = height + 'px'; }
      reply(cb, {width: width === '100%' ? '100%' : parseInt(width, 10), height: height > 0 ? height : frame.offsetHeight});
    },
    refreshAuth: function (p, cb) {
      post(SANDBOX.base + '_sandbox/tokens', {user_id: SANDBOX.userId}).then(function (t) {
        init.AUTH_ID = t.access_token;
        init.REFRESH_ID = t.refresh_token;
        init.AUTH_EXPIRES = String(t.expires_in);
        reply(cb, {AUTH_ID: t.access_token, AUTH_EXPIRES: String(t.expires_in), REFRESH_ID: t.refresh_token});
      });
    },
    setTitle: function (p, cb) {
      var title = p && (p.title !== undefined ? p.title : p);
      if (typeof title === 'string') {
        document.getElementById('app-title').textContent = title;
        document.title = title;
      }
      reply(cb, {});
    },
    setAppOption: function (p, cb) { if (p) { Object.assign(init.APP_OPTIONS, p.options || p); } reply(cb, {}); },
    setUserOption: function (p, cb) { if (p) { Object.assign(init.USER_OPTIONS, p.options || p); } reply(cb, {}); },
    reloadWindow: function () { location.reload(); },
    setScroll: function (p, cb) { window.scrollTo(0, (p && parseInt(p.scroll, 10)) || 0); reply(cb, {}); },
    selectCRM: function (p, cb) { openPicker(p || {}, cb); }
  };
  // Outside the app's own page (a widget), the portal refuses these (reference 6.1).
  var defaultOnly = {setTitle: true, setScroll: true, reloadWindow: true};
  window.addEventListener('message', function (e) {
    if (e.origin !== SANDBOX.appOrigin || e.source !== frame.contentWindow) { return; }
    var m = parse(e.data);
    if (!m || m.sid !== SANDBOX.appSid || !handlers[m.command]) { return; }
    if (init.PLACEMENT !== 'DEFAULT' && defaultOnly[m.command]) { return; }
    window.SANDBOX_LOG.push({command: m.command, params: m.params, callback: m.callback});
    handlers[m.command](m.params, m.callback);
  });

  var PREFIX = {contact: 'C_', company: 'CO_'};
  function openPicker(p, cb) {
    var types = (p.entityType || ['contact', 'company']).filter(function (t) { return PREFIX[t]; });
    if (!types.length) { types = ['contact']; }
    var multiple = p.multiple !== false && p.multiple !== 'N';
    var chosen = {};
    var value = p.value || {};
    types.forEach(function (t) {
      chosen[t] = {};
      (value[t] || []).forEach(function (v) {
        var id = String(v).replace(/^(C|CO)_/, '');
        chosen[t][id] = {id: PREFIX[t] + id, type: t, title: ''};
      });
    });
    var active = types[0];
    var search = document.getElementById('crm-picker-search');
    var list = document.getElementById('crm-picker-list');
    var tabs = document.getElementById('crm-picker-tabs');
    document.getElementById('crm-picker-title').textContent = SANDBOX.texts.pick;
    search.placeholder = SANDBOX.texts.search;
    search.value = '';
    document.getElementById('crm-picker-ok').textContent = SANDBOX.texts.choose;
    document.getElementById('crm-picker-cancel').textContent = SANDBOX.texts.cancel;
    function load() {
      var url = SANDBOX.base + '_sandbox/crm-search?user=' + SANDBOX.userId + '&type=' + active + '&q=' + encodeURIComponent(search.value);
      fetch(url).then(function (r) { return r.json(); }).then(function (rows) {
        list.innerHTML = '';
        rows.forEach(function (row) {
          var li = document.createElement('li');
          var box = document.createElement('input');
          box.type = multiple ? 'checkbox' : 'radio';
          box.name = 'crm-picker-choice';
          box.className = 'crm-picker-item';
          box.dataset.id = PREFIX[active] + row.id;
          box.dataset.type = active;
          box.checked = !!chosen[active][row.id];
          box.addEventListener('change', function () {
            if (!multiple) { types.forEach(function (t) { chosen[t] = {}; }); }
            if (box.checked) {
              chosen[active][row.id] = {id: PREFIX[active] + row.id, type: active, place: active, title: row.title, desc: row.desc, url: row.url, image: ''};
            } else { delete chosen[active][row.id]; }
          });
          var label = document.createElement('label');
          label.appendChild(box);
          label.appendChild(document.createTextNode(' ' + row.title + (row.desc ? ' — ' + row.desc : '')));
          li.appendChild(label);
          list.appendChild(li);
        });
      });
    }
    tabs.innerHTML = '';
    types.forEach(function (t) {
      var b = document.createElement('button');
      b.type = 'button';
      b.id = 'crm-picker-tab-' + t;
      b.className = 'tab' + (t === active ? ' active' : '');
      b.textContent = t;
      b.onclick = function () {
        active = t;
        Array.prototype.forEach.call(tabs.children, function (c) { c.className = 'tab' + (c === b ? ' active' : ''); });
        load();
      };
      tabs.appendChild(b);
    });
    search.oninput = load;
    function close(result) {
      picker.hidden = true;
      reply(cb, result);
    }
    document.getElementById('crm-picker-ok').onclick = function () {
      var result = {};
      types.forEach(function (t) { result[t] = Object.keys(chosen[t]).map(function (k) { return chosen[t][k]; }); });
      close(result);
    };
    document.getElementById('crm-picker-cancel').onclick = function () { close({}); };
    picker.hidden = false;
    load();
  }

  form.submit();
})();
