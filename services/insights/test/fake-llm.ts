// A tiny OpenAI-compatible server on 127.0.0.1 answering canned JSON (chat completions with a
// JSON-schema answer), or misbehaving on demand: slow, HTTP 500, or an answer that is no JSON.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeLlmMode = 'ok' | 'slow' | 'http500' | 'garbage';

export interface FakeLlm {
  /** `http://127.0.0.1:<port>/v1` */
  baseURL: string;
  /** Bodies received (with `url` and `auth`), oldest first. */
  requests: Array<Record<string, unknown>>;
  mode: FakeLlmMode;
  close(): void;
}

function answerFor(body: Record<string, unknown>) {
  const user = (body.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'user')!.content;
  const packet = JSON.parse(user).evidence;
  const l = packet.errorLines[0];
  return {
    criticalIssue: 'samtools could not open its input BAM.',
    category: 'missing_input',
    confidence: 0.9,
    rootCauses: [
      {
        cause: 'sample1.bam does not exist in the work directory',
        likelihood: 0.9,
        evidence: [`stderr line ${l.line}`],
      },
    ],
    nextSteps: ['ls -l sample1.bam', 'rerun the alignment step'],
    errorEntries: [{ pid: l.pid, stream: l.stream, line: l.line, text: l.text }],
  };
}

export async function startFakeLlm(): Promise<FakeLlm> {
  const fake = { requests: [] as Array<Record<string, unknown>>, mode: 'ok' as FakeLlmMode };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      fake.requests.push({ url: req.url, auth: req.headers.authorization, ...body });
      const reply = (content: string) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            created: 0,
            model: 'canned-1',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
          }),
        );
      };
      if (fake.mode === 'http500') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"boom"}}');
      } else if (fake.mode === 'slow')
        setTimeout(() => !res.writableEnded && reply(JSON.stringify(answerFor(body))), 3000);
      else if (fake.mode === 'garbage') reply('I think it is a missing file.');
      else reply(JSON.stringify(answerFor(body)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(fake, {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  });
}
