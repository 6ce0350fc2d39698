// qake-docs: starts Swagger UI from the JSON configuration the page carries in
// <script type="application/json" id="swagger-ui-config"> (no inline script, so the
// page's Content-Security-Policy can be script-src 'self').
"use strict";
(function () {
  var node = document.getElementById("swagger-ui-config");
  var config = JSON.parse(node.textContent);
  var initOAuth = config.initOAuth;
  delete config.initOAuth;
  if (config.oauth2RedirectUrl) {
    config.oauth2RedirectUrl = new URL(config.oauth2RedirectUrl, window.location.href).href;
  }
  config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
  var ui = SwaggerUIBundle(config);
  if (initOAuth) {
    ui.initOAuth(initOAuth);
  }
  window.ui = ui;
})();
