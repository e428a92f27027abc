/*
 * Script of the b24frame.js self-check pages (external, so the pages also run under the app's CSP).
 * The parent plays the portal's side of the frame protocol; the child exercises B24Frame and sends its
 * findings back with a test-only command, so one page's DOM holds the whole verdict.
 */
(function () {
  'use strict';

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  // Splits a message the way the portal does: command first, callback and APP_SID last, params between.
  function parse(msg) {
    var parts = msg.split(':');
    var m = {command: parts[0], params: null, callback: null, sid: parts[parts.length - 1]};
    if (parts.length >= 4) {
      m.callback = parts[parts.length - 2];
      m.params = parts.slice(1, parts.length - 2).join(':');
    } else if (parts.length === 3) {
      if (/^[\[{"]/.test(parts[1])) { m.params = parts[1]; } else { m.callback = parts[1]; }
    }
    m.params = m.params ? JSON.parse(m.params) : null;
    return m;
  }

  function parentSide() {
    var query = new URLSearchParams(location.search);
    var childUrl = query.get('child') || 'http://127.0.0.1:8802/b24frame-test.html';
    var silent = query.get('silent') === '1';
    var childOrigin = new URL(childUrl).origin;
    var sid = 'testsid';
    var frame = document.createElement('iframe');
    var raw = [];
    var lastHeight = null;
    if (query.get('noname') === '1') {
      // The launch URL's query instead of the frame name, as after a portal's form post with no name kept.
      frame.src = childUrl + (childUrl.indexOf('?') < 0 ? '?' : '&') + 'DOMAIN=' + encodeURIComponent(location.host) +
        '&PROTOCOL=0&LANG=en&APP_SID=' + sid;
    } else {
      frame.name = location.host + '|0|' + sid;
      frame.src = childUrl;
    }
    frame.title = 'App';
    frame.width = '100%';
    document.getElementById('frame-box').appendChild(frame);

    function reply(callback, data) {
      if (callback) { frame.contentWindow.postMessage(callback + ':' + JSON.stringify(data), childOrigin); }
    }

    function verdict(report) {
      var fails = [];
      var resizes = raw.map(parse).filter(function (m) { return m.command === 'resizeWindow'; });
      if (!/^getInitData:[^:]+:testsid$/.test(raw[0] || '')) { fails.push('first message is not getInitData:cb:sid'); }
      if (!raw.some(function (r) { return /^setTitle:\{"title":"Frame test"\}:[^:]+:testsid$/.test(r); })) {
        fails.push('no setTitle from data-b24-title');
      }
      if (raw.indexOf('setInstallFinish:testsid') < 0) { fails.push('no bare setInstallFinish:sid'); }
      if (!resizes.length || resizes.some(function (m) { return m.params.width !== '100%'; })) {
        fails.push('no resizeWindow to 100% width');
      }
      if (lastHeight !== report.height) { fails.push('last height ' + lastHeight + ' != document ' + report.height); }
      if (!resizes.some(function (m) { return m.params.height >= report.height + 400; })) {
        fails.push('the frame never grew with the content');
      }
      if (silent) {
        if (report.init !== null || report.initMs < 2900 || report.initMs > 4500) { fails.push('init did not give up at 3 s'); }
      } else if (!report.init || report.init.AUTH_ID !== 'test-auth') {
        fails.push('init data missing');
      }
      if (!report.refresh || report.refresh.AUTH_ID !== 'test-auth-2') { fails.push('refreshAuth answer missing'); }
      if (String(report.contacts) !== '12,7' || String(report.companies) !== '3') { fails.push('crmIds wrong'); }
      if (report.picked !== '5, 12, 7' || report.pickHidden) { fails.push('picker button gave ' + report.picked); }
      var el = document.getElementById('verdict');
      el.textContent = fails.length ? 'FAIL: ' + fails.join('; ') : 'PASS: ' + raw.length + ' messages, height ' + lastHeight;
      el.className = 'alert ' + (fails.length ? 'alert-error' : 'alert-success');
    }

    var handlers = {
      getInitData: function (p, cb) {
        if (silent) { return; }
        reply(cb, {DOMAIN: location.host, PROTOCOL: 0, LANG: 'en', PATH: '/app/', AUTH_ID: 'test-auth',
          AUTH_EXPIRES: '3600', REFRESH_ID: 'test-refresh', MEMBER_ID: 'test-member', IS_ADMIN: true,
          APP_OPTIONS: {}, USER_OPTIONS: {}, PLACEMENT: 'DEFAULT', PLACEMENT_OPTIONS: {}, INSTALL: false,
          FIRST_RUN: false});
      },
      resizeWindow: function (p, cb) {
        lastHeight = parseInt(p.height, 10);
        frame.height = String(lastHeight);
        reply(cb, {width: '100%', height: lastHeight});
      },
      setTitle: function (p, cb) { document.title = p.title; reply(cb, {}); },
      refreshAuth: function (p, cb) {
        reply(cb, {AUTH_ID: 'test-auth-2', AUTH_EXPIRES: '3600', REFRESH_ID: 'test-refresh-2'});
      },
      selectCRM: function (p, cb) {
        reply(cb, {contact: [{id: 'C_12', type: 'contact', title: 'Ivan Demo'}, {id: 'C_7'}, {id: 'C_12'}],
          company: [{id: 'CO_3', type: 'company', title: 'Example LLC'}]});
      },
      setInstallFinish: function () {},
      testReport: function (p) { verdict(p); }
    };

    window.addEventListener('message', function (e) {
      if (e.origin !== childOrigin || e.source !== frame.contentWindow || typeof e.data !== 'string') { return; }
      var m = parse(e.data);
      if (m.sid !== sid || !handlers[m.command]) { return; }
      if (m.command !== 'testReport') {
        raw.push(e.data);
        var li = document.createElement('li');
        li.textContent = e.data;
        document.getElementById('log').appendChild(li);
      }
      // Noise the client must ignore: an answer to a callback it never sent.
      if (raw.length === 1) { frame.contentWindow.postMessage('nosuchcallback:{"AUTH_ID":"forged"}', childOrigin); }
      handlers[m.command](m.params, m.callback);
    });
  }

  function afterFrames(n, fn) {
    requestAnimationFrame(function () { if (n > 1) { afterFrames(n - 1, fn); } else { fn(); } });
  }

  function childSide() {
    var F = window.B24Frame;
    var started = Date.now();
    var report = {inFrame: F.inFrame};
    text('in-frame', String(F.inFrame));
    F.ready.then(function (init) {
      report.init = init;
      report.initMs = Date.now() - started;
      text('init', JSON.stringify(init));
      return F.refreshAuth();
    }).then(function (auth) {
      report.refresh = auth;
      text('refresh', JSON.stringify(auth));
      return F.selectCRM({entityType: ['contact', 'company'], multiple: true});
    }).then(function (result) {
      report.contacts = F.crmIds(result, 'contact');
      report.companies = F.crmIds(result, 'company');
      text('crm', JSON.stringify({contact: report.contacts, company: report.companies}));
      // app.js's picker button: ids already in the textarea stay, new ones are appended once.
      return new Promise(function (resolve) {
        var picked = document.getElementById('picked');
        picked.addEventListener('input', function () { resolve(picked.value); });
        document.getElementById('pick').click();
        if (!F.inFrame) { resolve(picked.value); }
      });
    }).then(function (picked) {
      report.picked = picked;
      report.pickHidden = document.getElementById('pick').hidden;
      F.installFinish();
      // Grow the page by 400 px, then shrink it back: the frame must follow both ways. Waits count
      // animation frames, not milliseconds, since autofit sends on the frame after a resize is observed.
      var filler = document.createElement('div');
      filler.style.height = '400px';
      document.body.appendChild(filler);
      afterFrames(4, function () {
        document.body.removeChild(filler);
        afterFrames(4, function () {
          report.height = F.documentHeight();
          F.send('testReport', report, false);
        });
      });
    });
  }

  if (document.body.getAttribute('data-test-role') === 'parent') { parentSide(); } else { childSide(); }
})();
