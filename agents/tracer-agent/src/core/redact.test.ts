import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactArgv, redactText } from './redact.ts';

const cases: Array<[string, string, string, string[]]> = [
  [
    'AWS access key id',
    'using AKIAIOSFODNN7EXAMPLE for upload',
    'using [REDACTED:aws-access-key] for upload',
    ['aws-access-key'],
  ],
  [
    'AWS secret key after its name',
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'aws_secret_access_key = [REDACTED:aws-secret-key]',
    ['aws-secret-key'],
  ],
  [
    'bare AWS secret key',
    'export X=1 wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY done',
    'export X=1 [REDACTED:aws-secret-key] done',
    ['aws-secret-key'],
  ],
  [
    'password in a URL',
    'connecting to postgres://alice:s3cr3t@db.internal:5432/x',
    'connecting to postgres://alice:[REDACTED:url-password]@db.internal:5432/x',
    ['url-password'],
  ],
  [
    'authorization header',
    'Authorization: Bearer abc.def-ghi_123456',
    'Authorization: Bearer [REDACTED:authorization]',
    ['authorization'],
  ],
  [
    'bare bearer token',
    'curl -H "X: Bearer abcdefgh12345"',
    'curl -H "X: Bearer [REDACTED:authorization]"',
    ['authorization'],
  ],
  ['flag with =', '--password=hunter2 --threads=4', '--password=[REDACTED:password] --threads=4', ['password']],
  ['JSON secret', '{"api_key": "k-123", "n": 3}', '{"api_key": "[REDACTED:secret]", "n": 3}', ['secret']],
  ['GitHub token', 'token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'token [REDACTED:token]', ['token']],
  [
    'private key block',
    'a\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nb',
    'a\n[REDACTED:private-key]\nb',
    ['private-key'],
  ],
];

for (const [name, input, expected, kinds] of cases) {
  test(`redacts ${name}`, () => {
    const r = redactText(input);
    assert.equal(r.text, expected);
    assert.deepEqual(r.kinds, kinds);
  });
}

test('leaves ordinary tool output alone', () => {
  const lines = [
    '[M::bwa_idx_load_from_disk] read 0 ALT contigs',
    'commit 3f786850e387550fdab836ed7e6dc881de23001b',
    'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '@SRR001666.1 071112_SLXA-EAS1_s_7:5:1:817:345 length=36',
    'GGGTGATGGCCGCTGCCGATGGCGTCAAATCCCACCAAGTTACCCTTAACAACTTAAG',
    'max_tokens 128 tokens: 12',
    'https://example.org/path?q=1',
  ];
  for (const line of lines) assert.deepEqual(redactText(line), { text: line, kinds: [] }, line);
});

test('redacts the argument after a secret flag and secrets inside arguments', () => {
  const r = redactArgv(['mysqldump', '--password', 'hunter2', '--user', 'bob', 'https://u:p4ss@h/x', '--token=abc']);
  assert.deepEqual(r.argv, [
    'mysqldump',
    '--password',
    '[REDACTED:password]',
    '--user',
    'bob',
    'https://u:[REDACTED:url-password]@h/x',
    '--token=[REDACTED:token]',
  ]);
  assert.deepEqual(r.kinds, ['password', 'url-password', 'token']);
});
