// End-to-end test of llmgate with the official OpenAI Node SDK (npm `openai`).
//
// A client nobody here wrote must work against llmgate exactly as against
// OpenAI: plain and streamed completions, usage, OpenAI-shaped errors, and
// llmgate's own response headers on top.
//
// Environment:
//   LLMGATE_BASE_URL    required, e.g. http://127.0.0.1:8080/v1
//   LLMGATE_MODEL       model or alias to ask for (default: gpt-4o-mini)
//   LLMGATE_API_KEY     client key sent as Bearer token (default: a dummy;
//                       llmgate without `clients:` accepts any)
//   LLMGATE_TIMEOUT_MS  per-request timeout (default: 30000)
//
// Exit status: 0 all passed, 1 a check failed, 2 bad environment.
// Upstream answers come from fakellm, which is deterministic: the same input
// gives the same text, streamed or not.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import OpenAI from 'openai';
import { VERSION as sdkVersion } from 'openai/version';

const baseURL = process.env.LLMGATE_BASE_URL;
if (!baseURL) {
  console.error('sdk_test: LLMGATE_BASE_URL is not set (e.g. http://127.0.0.1:8080/v1)');
  process.exit(2);
}
const model = process.env.LLMGATE_MODEL || 'gpt-4o-mini';
const timeout = Number(process.env.LLMGATE_TIMEOUT_MS || 30000);

// maxRetries 0: a failure must show up here, not be hidden by the SDK's own
// retries (llmgate does the retrying).
const client = new OpenAI({
  baseURL,
  apiKey: process.env.LLMGATE_API_KEY || 'sk-llmgate-e2e',
  maxRetries: 0,
  timeout,
});

console.log(`sdk_test: openai ${sdkVersion} against ${baseURL}, model ${model}`);

// llmgate's response headers that every answer carries (DESIGN.md, "HTTP surface").
function assertGatewayHeaders(headers, what) {
  for (const name of ['x-llmgate-provider', 'x-llmgate-model', 'x-request-id']) {
    const value = headers.get(name);
    assert.ok(value, `${what}: response header ${name} is missing`);
  }
  console.log(
    `  ${what}: provider=${headers.get('x-llmgate-provider')} ` +
      `model=${headers.get('x-llmgate-model')} cache=${headers.get('x-llmgate-cache')} ` +
      `attempts=${headers.get('x-llmgate-attempts')} request-id=${headers.get('x-request-id')}`,
  );
}

function assertUsage(usage, what) {
  assert.ok(usage, `${what}: no usage`);
  assert.ok(usage.prompt_tokens > 0, `${what}: usage.prompt_tokens is ${usage.prompt_tokens}`);
  assert.ok(
    usage.completion_tokens > 0,
    `${what}: usage.completion_tokens is ${usage.completion_tokens}`,
  );
  assert.equal(
    usage.total_tokens,
    usage.prompt_tokens + usage.completion_tokens,
    `${what}: usage.total_tokens is not prompt_tokens + completion_tokens`,
  );
}

test('SDK client does not retry on its own', () => {
  assert.equal(client.maxRetries, 0);
});

test('(a) chat completion: content, finish_reason, usage, llmgate headers', async () => {
  const requestId = `e2e-${randomUUID()}`;
  const { data, response } = await client.chat.completions
    .create(
      {
        model,
        messages: [
          { role: 'system', content: 'You are a terse assistant.' },
          { role: 'user', content: 'Name three primary colors.' },
        ],
        temperature: 0,
      },
      { headers: { 'x-request-id': requestId } },
    )
    .withResponse();

  assert.equal(response.status, 200, `status ${response.status}`);
  assert.equal(data.object, 'chat.completion');
  assert.ok(Array.isArray(data.choices) && data.choices.length > 0, 'no choices');
  const choice = data.choices[0];
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string', 'message.content is not a string');
  assert.ok(choice.message.content.length > 0, 'message.content is empty');
  assert.equal(choice.finish_reason, 'stop');
  assertUsage(data.usage, 'non-streamed');
  assertGatewayHeaders(response.headers, 'non-streamed');
  assert.equal(
    response.headers.get('x-request-id'),
    requestId,
    'x-request-id sent by the client was not kept',
  );
});

test('(b) streamed completion: same text as non-streamed, final usage chunk', async () => {
  // A prompt of its own, and no-store, so that neither call is a replay of
  // the other from llmgate's cache.
  const params = {
    model,
    messages: [{ role: 'user', content: 'Count from one to five in words.' }],
    temperature: 0,
  };
  const noStore = { headers: { 'x-llmgate-cache': 'no-store' } };

  const plain = await client.chat.completions.create(params, noStore);
  const expected = plain.choices[0]?.message?.content;
  assert.ok(expected, 'non-streamed reference answer is empty');

  const { data: stream, response } = await client.chat.completions
    .create({ ...params, stream: true, stream_options: { include_usage: true } }, noStore)
    .withResponse();
  assert.equal(response.status, 200, `status ${response.status}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assertGatewayHeaders(response.headers, 'streamed');

  let text = '';
  let finishReason = null;
  let usageChunk = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(usageChunk, null, 'a chunk came after the usage chunk');
    if (chunk.usage) {
      usageChunk = chunk;
      continue;
    }
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? '';
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  assert.ok(chunks > 1, `only ${chunks} chunk(s) streamed`);
  assert.equal(text, expected, 'streamed text differs from the non-streamed answer');
  assert.equal(finishReason, 'stop');
  assert.ok(usageChunk, 'no final usage chunk despite stream_options.include_usage');
  assert.deepEqual(usageChunk.choices, [], 'the usage chunk has choices');
  assertUsage(usageChunk.usage, 'streamed');
});

test('(c) unknown model: NotFoundError 404 with code model_not_found', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: 'no-such-model',
      messages: [{ role: 'user', content: 'hello' }],
      temperature: 0,
    }),
    (err) => {
      assert.ok(
        err instanceof OpenAI.NotFoundError,
        `expected OpenAI.NotFoundError, got ${err?.constructor?.name}: ${err?.message}`,
      );
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found', `error.code is ${JSON.stringify(err.code)}`);
      assert.ok(err.error?.message, 'error.message is empty');
      assert.ok(err.headers?.get('x-request-id'), 'error response has no x-request-id');
      return true;
    },
  );
});

test('(d) cache: the same answer twice, the second from llmgate cache, streamed and not', async () => {
  const params = {
    model,
    messages: [{ role: 'user', content: `Cache me via the SDK ${Date.now()}` }],
    temperature: 0,
  };
  const { data: first, response: r1 } = await client.chat.completions
    .create(params)
    .withResponse();
  assert.equal(r1.headers.get('x-llmgate-cache'), 'miss');
  const { data: second, response: r2 } = await client.chat.completions
    .create(params)
    .withResponse();
  assert.equal(r2.headers.get('x-llmgate-cache'), 'hit-l1', 'second call was not a cache hit');
  assert.equal(r2.headers.get('x-llmgate-attempts'), '0');
  assert.deepEqual(second.choices, first.choices);
  assertUsage(second.usage, 'cached');

  // R42: the cached answer replayed as a stream the SDK accepts.
  const { data: stream, response: r3 } = await client.chat.completions
    .create({ ...params, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(r3.headers.get('x-llmgate-cache'), 'hit-l1', 'stream was not served from cache');
  let text = '';
  let finishReason = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? '';
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  assert.equal(text, first.choices[0].message.content, 'replayed text differs');
  assert.equal(finishReason, first.choices[0].finish_reason);
  assertUsage(usage, 'replayed stream');
});
