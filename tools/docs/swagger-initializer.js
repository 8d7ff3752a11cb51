// Starts Swagger UI at /api/docs/. A file of its own rather than an inline script, so that
// the page's Content-Security-Policy can forbid inline scripts altogether.
window.ui = SwaggerUIBundle({
    url: '/api/schema/',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    // The public validator badge would send the document to a third-party host.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
});
