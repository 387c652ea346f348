// The official OpenAI Node SDK meets a drain (R65, docs/DATA_PLANE.md
// "Shutdown"): a stream still running at server.drain_timeout must end in an
// APIError the application can read (code server_shutting_down), promptly,
// never a hang; a request sent after the SIGTERM fails fast with a
// connection error (the listener is closed), which the SDK would retry
// elsewhere.
//
// Environment: LLMGATE_BASE_URL (required), LLMGATE_PID (the llmgate process
// to SIGTERM), LLMGATE_DRAIN_MS (its server.drain_timeout).
// Exit status: 0 all passed, 1 a check failed, 2 bad environment.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import OpenAI from 'openai';

const baseURL = process.env.LLMGATE_BASE_URL;
const pid = Number(process.env.LLMGATE_PID);
const drainMs = Number(process.env.LLMGATE_DRAIN_MS || 1000);
if (!baseURL || !pid) {
  console.error('sdk_drain_test: LLMGATE_BASE_URL and LLMGATE_PID must be set');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: 'sk-llmgate-e2e', maxRetries: 0, timeout: 15000 });

test('a stream cut by the drain deadline throws APIError server_shutting_down', async () => {
  // 60 words at 10/s: ~6 s, longer than the drain timeout.
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [
      { role: 'user', content: 'drain e2e FAKELLM{"tokens_per_sec":10,"answer_words":60}' },
    ],
  });
  let chunks = 0;
  let text = '';
  let sigtermAt = 0;
  let caught;
  let refused;
  const hang = setTimeout(() => {
    console.error('sdk_drain_test: the stream hung after the drain deadline');
    process.exit(1);
  }, 15000);
  try {
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunks === 3) {
        process.kill(pid, 'SIGTERM');
        sigtermAt = Date.now();
        // A new request while draining: refused at connect.
        refused = new Promise((resolve) => setTimeout(resolve, 200)).then(() =>
          client.chat.completions
            .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'late' }] })
            .then(
              () => 'answered',
              (e) => e,
            ),
        );
      }
    }
  } catch (e) {
    caught = e;
  } finally {
    clearTimeout(hang);
  }
  const after = Date.now() - sigtermAt;
  assert.ok(caught, `the stream ended without an error after ${chunks} chunks: ${text}`);
  assert.ok(caught instanceof OpenAI.APIError, `not an APIError: ${caught}`);
  assert.equal(caught.code, 'server_shutting_down');
  assert.equal(caught.type, 'server_error');
  assert.match(caught.message, /shutting down/);
  assert.ok(chunks > 3, `the stream did not go on during the drain (${chunks} chunks)`);
  assert.ok(after >= drainMs * 0.8, `cut ${after} ms after SIGTERM, before the drain deadline`);
  assert.ok(after < drainMs + 2000, `cut ${after} ms after SIGTERM`);
  console.log(`  stream: ${chunks} chunks, then APIError "${caught.message}" ${after} ms after SIGTERM`);

  const late = await refused;
  assert.ok(late instanceof OpenAI.APIConnectionError, `a request after SIGTERM: ${late}`);
  console.log(`  request after SIGTERM: ${late.constructor.name}`);
});
