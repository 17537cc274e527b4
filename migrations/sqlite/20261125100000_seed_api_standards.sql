-- Seed the pre-defined API standards (seed 001: openai, cohere, gemini;
-- DESIGN.md adds anthropic and ollama). Admins may edit or delete them later;
-- this migration runs once, so their edits stay.
INSERT INTO api_standards (created_at, updated_at, api_standard_handle, description, key_method, key_field) VALUES
  (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'openai', 'OpenAI Embeddings API, Version 1, as documented in https://platform.openai.com/docs/api-reference/embeddings', 'auth_bearer', 'Authorization'),
  (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'cohere', 'Cohere Embed API, Version 2, as documented in https://docs.cohere.com/reference/embed', 'auth_bearer', 'Authorization'),
  (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'gemini', 'Google Gemini Embedding API as documented in https://ai.google.dev/gemini-api/docs/embeddings', 'query_param', 'key'),
  (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'anthropic', 'Anthropic Messages API, as documented in https://docs.anthropic.com/en/api/messages (key in the x-api-key header)', 'auth_apikey', 'x-api-key'),
  (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'ollama', 'Ollama local API, no authentication required, as documented in https://github.com/ollama/ollama/blob/main/docs/api.md', 'none', '');
