/** How to call the gateway with a client key: per wire protocol of the
 * key's service, the base URL an SDK takes and ready-to-run examples.
 * The paths are the proxy's routes (see README: Proxy routes). */

export type Protocol = 'openai' | 'anthropic' | 'gemini' | 'cohere';

export interface Snippet {
  /** Tab label, e.g. "curl", "Python (openai)". */
  label: string;
  code: string;
}

export interface CallGuide {
  /** What an SDK of the protocol takes as its base URL. */
  baseUrl: string;
  snippets: Snippet[];
}

const ENV = 'SLUICE_API_KEY';

/** A shell word in single quotes. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The examples for a key of a service speaking protocol, at origin (the
 * gateway's address, e.g. window.location.origin), asking model. curl
 * carries the key itself; SDK examples read it from SLUICE_API_KEY. */
export function callGuide(protocol: string, origin: string, key: string, model: string): CallGuide {
  const base = origin.replace(/\/+$/, '');
  const m = JSON.stringify(model);
  switch (protocol as Protocol) {
    case 'anthropic':
      return {
        baseUrl: base,
        snippets: [
          {
            label: 'curl',
            code: `curl ${base}/v1/messages \\
  -H ${sq(`x-api-key: ${key}`)} \\
  -H 'anthropic-version: 2023-06-01' \\
  -H 'content-type: application/json' \\
  -d ${sq(JSON.stringify({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] }))}`,
          },
          {
            label: 'Python (anthropic)',
            code: `import os
import anthropic

client = anthropic.Anthropic(base_url="${base}", api_key=os.environ["${ENV}"])
message = client.messages.create(model=${m}, max_tokens=256, messages=[{"role": "user", "content": "Hello"}])
print(message.content[0].text)`,
          },
          {
            label: 'JavaScript (@anthropic-ai/sdk)',
            code: `import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({ baseURL: '${base}', apiKey: process.env.${ENV} });
const message = await client.messages.create({ model: ${m}, max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] });
console.log(message.content[0].text);`,
          },
        ],
      };
    case 'gemini':
      return {
        baseUrl: base,
        snippets: [
          {
            label: 'curl',
            code: `curl ${sq(`${base}/v1beta/models/${model}:generateContent`)} \\
  -H ${sq(`x-goog-api-key: ${key}`)} \\
  -H 'content-type: application/json' \\
  -d '{"contents":[{"parts":[{"text":"Hello"}]}]}'`,
          },
          {
            label: 'Python (google-genai)',
            code: `import os
from google import genai

client = genai.Client(api_key=os.environ["${ENV}"], http_options={"base_url": "${base}"})
response = client.models.generate_content(model=${m}, contents="Hello")
print(response.text)`,
          },
          {
            label: 'JavaScript (@google/genai)',
            code: `import { GoogleGenAI } from '@google/genai';

const ai = new GoogleGenAI({ apiKey: process.env.${ENV}, httpOptions: { baseUrl: '${base}' } });
const response = await ai.models.generateContent({ model: ${m}, contents: 'Hello' });
console.log(response.text);`,
          },
        ],
      };
    case 'cohere':
      return {
        baseUrl: base,
        snippets: [
          {
            label: 'curl',
            code: `curl ${base}/v2/chat \\
  -H ${sq(`Authorization: Bearer ${key}`)} \\
  -H 'content-type: application/json' \\
  -d ${sq(JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }))}`,
          },
          {
            label: 'Python (cohere)',
            code: `import os
import cohere

client = cohere.ClientV2(api_key=os.environ["${ENV}"], base_url="${base}")
response = client.chat(model=${m}, messages=[{"role": "user", "content": "Hello"}])
print(response.message.content[0].text)`,
          },
          {
            label: 'JavaScript (cohere-ai)',
            code: `import { CohereClientV2 } from 'cohere-ai';

const client = new CohereClientV2({ token: process.env.${ENV}, environment: '${base}' });
const response = await client.chat({ model: ${m}, messages: [{ role: 'user', content: 'Hello' }] });
console.log(response.message.content[0].text);`,
          },
        ],
      };
    default:
      return {
        baseUrl: `${base}/v1`,
        snippets: [
          {
            label: 'curl',
            code: `curl ${base}/v1/chat/completions \\
  -H ${sq(`Authorization: Bearer ${key}`)} \\
  -H 'content-type: application/json' \\
  -d ${sq(JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }))}`,
          },
          {
            label: 'Python (openai)',
            code: `import os
from openai import OpenAI

client = OpenAI(base_url="${base}/v1", api_key=os.environ["${ENV}"])
completion = client.chat.completions.create(model=${m}, messages=[{"role": "user", "content": "Hello"}])
print(completion.choices[0].message.content)`,
          },
          {
            label: 'JavaScript (openai)',
            code: `import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '${base}/v1', apiKey: process.env.${ENV} });
const completion = await client.chat.completions.create({ model: ${m}, messages: [{ role: 'user', content: 'Hello' }] });
console.log(completion.choices[0].message.content);`,
          },
        ],
      };
  }
}

/** The shell line that sets the variable the SDK examples read. */
export function envLine(key: string): string {
  return `export ${ENV}=${sq(key)}`;
}
