import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createHostSampler, readEc2Identity, readHostInfo } from './host.ts';

const dmi = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'dmi-'));
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), `${value}\n`);
  return dir;
};

test('EC2 identity comes from DMI and the hostname only when DMI says EC2', () => {
  const nitro = dmi({ sys_vendor: 'Amazon EC2', board_asset_tag: 'i-0abc123def4567890', product_name: 'm6i.2xlarge' });
  assert.deepEqual(readEc2Identity(nitro, {}, 'ip-10-0-1-7.eu-west-1.compute.internal'), {
    cloud: 'aws',
    instanceId: 'i-0abc123def4567890',
    instanceType: 'm6i.2xlarge',
    region: 'eu-west-1',
  });
  assert.equal(readEc2Identity(nitro, {}, 'ip-10-0-1-7.ec2.internal')?.region, 'us-east-1');
  assert.equal(readEc2Identity(nitro, { AWS_REGION: 'ap-south-1' }, 'x')?.region, 'ap-south-1');
  const xen = dmi({ bios_version: '4.11.amazon', product_name: 'HVM domU' });
  assert.deepEqual(readEc2Identity(xen, {}, 'box'), { cloud: 'aws' });
  assert.equal(
    readEc2Identity(dmi({ sys_vendor: 'QEMU', board_asset_tag: 'i-0abc123def4567890' }), {}, 'x'),
    undefined,
  );
  assert.equal(readEc2Identity('/nonexistent', {}, 'x'), undefined);
});

test('host info and host samples from this host', () => {
  const info = readHostInfo({ dmiDir: '/nonexistent' });
  assert.ok(info.cpus >= 1 && info.memoryBytes > 0 && info.bootId.length === 36);
  assert.equal(info.cloud, undefined);
  const sampler = createHostSampler();
  const s = sampler.sample();
  assert.ok(s.cpuBusyRatio >= 0 && s.cpuBusyRatio <= 1);
  assert.ok(s.memoryAvailableBytes > 0 && s.memoryUsedBytes > 0);
  assert.ok((s.diskTotalBytes ?? 0) > 0);
});
