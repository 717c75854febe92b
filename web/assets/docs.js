// Swagger UI for /docs: the API document served beside it, no external validator,
// requests tried against this origin. A file of its own: the CSP allows no inline script.
window.ui = window.SwaggerUIBundle({
  url: '/docs/openapi.yaml',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
  docExpansion: 'list',
  tryItOutEnabled: false,
  persistAuthorization: false,
});
