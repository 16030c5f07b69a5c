#!/usr/bin/env node
'use strict';
/*
 * e2e_oss_media: OSS media processing through the official, unmodified OSS Node client
 * (ali-oss 6.23.0) against a real mediaconvertd, results read back with ffprobe.
 *
 *   - x-oss-async-process sent with client.request() exactly as sdk-wire.md 3.5 shows;
 *     the task polled with IMM GetTask (@alicloud/openapi-core, as e2e_sdk drives it), the
 *     output downloaded with ali-oss: video/animation (frames, size), audio/convert to mp3,
 *     aac, flac, oga, ac3, opus and amr (sample rate, channels, duration);
 *   - the documented refusals (amr at 44100 Hz, mp3 with 6 channels, aq with ab, an unknown
 *     action) answer InvalidArgument with the parser's message and write nothing; a bucket
 *     attached to no project answers "Imm Client" ResourceNotFound;
 *   - bucket -> project: [oss_buckets] for one bucket, the project named like the bucket for
 *     the other;
 *   - synchronous x-oss-process: GET video/snapshot (JPEG of width 320, read from its SOF),
 *     processObjectSave (the PNG object, OSS's JSON reply), video/info and audio/info JSON,
 *     bad strings; no temporary object is left behind.
 *
 * Environment (set by ctest): MC_DAEMON, MC_TEST_TMP, MC_MEDIA_DIR. Exit 0 pass, 1 fail,
 * 77 skip (node modules or ffprobe missing).
 */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

let OSS, core;
try {
  OSS = require('ali-oss');
  core = require('@alicloud/openapi-core');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND') {
    console.log('SKIP: ali-oss / @alicloud/openapi-core not installed. Run scripts/install-node-deps.sh.');
    process.exit(77);
  }
  throw e;
}
const dara = require('@darabonba/typescript');

const DAEMON = process.env.MC_DAEMON;
const MEDIA = process.env.MC_MEDIA_DIR || path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'media');
const TMP = process.env.MC_TEST_TMP || '/tmp';
if (!DAEMON) {
  console.log('SKIP: MC_DAEMON is not set (run through ctest)');
  process.exit(77);
}
const FRIDAY = path.join(MEDIA, 'friday.mp4');
const FLAC = path.join(MEDIA, 'loop_mika.flac');
const MP3 = path.join(MEDIA, 't-rex-roar.mp3');
for (const f of [FRIDAY, FLAC, MP3]) {
  if (!fs.existsSync(f)) {
    console.log(`SKIP: ${f} not found`);
    process.exit(77);
  }
}
try {
  execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
} catch (e) {
  console.log('SKIP: ffprobe not found');
  process.exit(77);
}

const AK = 'LTAI5tOssMediaAccessKey1';
const SK = 'OssMediaSecret0123456789abcdefAB';
const VBUCKET = 'video-bucket'; /* [oss_buckets] video-bucket = media-proj */
const ABUCKET = 'audio-proj';   /* no entry: the project named like the bucket */
const LONE = 'lone-bucket';     /* no entry, no such project */
const DIR = fs.mkdtempSync(path.join(fs.mkdirSync(TMP, { recursive: true }) || TMP, 'e2e-oss-media-'));
const LOG = path.join(DIR, 'daemon.log');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64 = (s) => Buffer.from(s).toString('base64url');
const log = (s) => console.log(s);

let daemon = null;
async function startDaemon() {
  fs.writeFileSync(path.join(DIR, 'config.ini'), [
    '[keys]', `${AK} = ${SK}`,
    '[projects]', 'media-proj = video', `${ABUCKET} = audio`,
    '[oss_buckets]', `${VBUCKET} = media-proj`,
    '[oss]', 'sync_timeout = 60', 'sync_max = 2',
    '[workers]', 'count = 2',
    '',
  ].join('\n'));
  const portFile = path.join(DIR, 'port');
  const logFd = fs.openSync(LOG, 'w');
  const child = spawn(DAEMON, ['--config', path.join(DIR, 'config.ini'), '--listen', '127.0.0.1:0',
    '--data-dir', DIR, '--port-file', portFile], { env: process.env, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  daemon = { child, exited, done: false };
  exited.then(() => { daemon && (daemon.done = true); });
  for (let i = 0; i < 600; i++) {
    if (daemon.done) throw new Error(`mediaconvertd exited during start-up: ${JSON.stringify(await exited)}`);
    try {
      const port = parseInt(fs.readFileSync(portFile, 'utf8'), 10);
      if (port > 0) return port;
    } catch (e) { /* not yet */ }
    await sleep(50);
  }
  throw new Error('mediaconvertd did not write its port file within 30 s');
}

async function stopDaemon() {
  if (!daemon) return null;
  const d = daemon;
  if (!d.done) d.child.kill('SIGTERM');
  const t = setTimeout(() => { if (!d.done) d.child.kill('SIGKILL'); }, 60000);
  const r = await d.exited;
  clearTimeout(t);
  daemon = null;
  return r;
}

function ossClient(port, bucket) {
  return new OSS({
    accessKeyId: AK, accessKeySecret: SK, bucket, region: 'oss-cn-hangzhou',
    endpoint: `http://127.0.0.1:${port}`, secure: false, timeout: 120000,
  });
}

/* sdk-wire.md 3.5, as written there. */
async function asyncProcessObject(client, key, process) {
  const params = client._objectRequestParams('POST', key, { subres: { 'x-oss-async-process': '' } });
  params.content = Buffer.from(`x-oss-async-process=${process}`);
  params.mime = 'application/x-www-form-urlencoded';
  params.successStatuses = [200];
  const result = await client.request(params);
  assert.equal(result.res.headers['content-type'], 'application/json');
  assert.ok(/^[0-9A-F]{24}$/.test(result.res.headers['x-oss-request-id']), 'x-oss-request-id');
  return JSON.parse(result.data.toString('utf8'));
}

async function expectOssError(what, promise, status, code, msgPattern) {
  let err = null;
  try {
    const r = await promise;
    assert.fail(`${what}: expected ${status} ${code}, got success ${r && r.res && r.res.status}`);
  } catch (e) {
    if (e.code === 'ERR_ASSERTION') throw e;
    err = e;
  }
  assert.equal(err.status, status, `${what}: status ${err.status} (${err.code}: ${err.message})`);
  assert.equal(err.code, code, `${what}: code ${err.code} (${err.message})`);
  assert.ok(err.requestId && /^[0-9A-F]{24}$/.test(err.requestId), `${what}: RequestId ${err.requestId}`);
  if (msgPattern) assert.match(err.message, msgPattern, what);
  return err;
}

function imm(port) {
  return new core.default(new core.$OpenApiUtil.Config({
    accessKeyId: AK, accessKeySecret: SK, endpoint: `127.0.0.1:${port}`, protocol: 'http',
    regionId: 'cn-hangzhou',
  }));
}

async function getTask(c, project, taskId) {
  const params = new core.$OpenApiUtil.Params({
    action: 'GetTask', version: '2020-09-30', protocol: 'HTTPS', pathname: '/', method: 'POST',
    authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
  const req = new core.$OpenApiUtil.OpenApiRequest({
    query: core.OpenApiUtil.query({ ProjectName: project, TaskId: taskId, TaskType: 'MediaConvert' }),
  });
  return (await c.callApi(params, req, new dara.RuntimeOptions({}))).body;
}

async function waitTask(c, project, taskId, timeoutMs = 240000) {
  const t0 = Date.now();
  for (;;) {
    const b = await getTask(c, project, taskId);
    if (b.Status !== 'Running' && b.Status !== 'Queued') return b;
    if (Date.now() - t0 > timeoutMs) throw new Error(`task ${taskId} still ${b.Status} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

function probe(file, countFrames) {
  const args = ['-v', 'error', '-show_streams', '-show_format', '-of', 'json'];
  if (countFrames) args.unshift('-count_frames');
  return JSON.parse(execFileSync('ffprobe', [...args, file], { encoding: 'utf8' }));
}

/* Width and height from a JPEG's SOF marker. */
function jpegSize(buf) {
  assert.ok(buf[0] === 0xff && buf[1] === 0xd8, 'JPEG SOI');
  let i = 2;
  while (i + 9 < buf.length) {
    assert.equal(buf[i], 0xff, `JPEG marker at ${i}`);
    const m = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
      return { width: buf.readUInt16BE(i + 7), height: buf.readUInt16BE(i + 5) };
    i += 2 + len;
  }
  throw new Error('no SOF marker in the JPEG');
}

function pngSize(buf) {
  assert.ok(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature');
  assert.equal(buf.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

function filesBelow(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

async function download(client, key, name) {
  const r = await client.get(key);
  assert.equal(r.res.status, 200, `get ${key}`);
  const f = path.join(DIR, name);
  fs.writeFileSync(f, r.content);
  return f;
}

async function main() {
  const port = await startDaemon();
  const vc = ossClient(port, VBUCKET);
  const ac = ossClient(port, ABUCKET);
  const lone = ossClient(port, LONE);
  const ic = imm(port);
  for (const [c, b] of [[vc, VBUCKET], [ac, ABUCKET], [lone, LONE]]) await c.putBucket(b);
  await vc.put('in/friday.mp4', FRIDAY);
  await ac.put('in/mika.flac', FLAC);
  await ac.put('in/roar.mp3', MP3);
  await lone.put('in/friday.mp4', FRIDAY);

  // ---- asynchronous: submit everything first, the two workers run them meanwhile --------
  log('async: video/animation and audio/convert');
  const anim = await asyncProcessObject(vc, 'in/friday.mp4',
    `video/animation,f_gif,ss_1000,inter_500,num_4,w_160,h_120|sys/saveas,o_${b64('out/anim.gif')}`);
  assert.ok(/^MediaConvert-[0-9a-f-]{36}$/.test(anim.TaskId), `TaskId ${anim.TaskId}`);
  assert.ok(typeof anim.EventId === 'string' && anim.EventId.length > 0, 'EventId');
  assert.ok(/^[0-9A-F-]{36}$/.test(anim.RequestId), `RequestId ${anim.RequestId}`);
  const audio = [
    { f: 'mp3', ar: 22050, ac: 1, codec: 'mp3' },
    { f: 'aac', ar: 44100, ac: 2, codec: 'aac' },
    { f: 'flac', ar: 48000, ac: 1, codec: 'flac' },
    { f: 'oga', ar: 24000, ac: 2, codec: 'vorbis' },
    { f: 'ac3', ar: 48000, ac: 2, codec: 'ac3' },
    { f: 'opus', ar: 48000, ac: 1, codec: 'opus' },
    { f: 'amr', ar: 8000, ac: 1, codec: 'amr_nb' },
  ];
  for (const a of audio) {
    a.key = `out/mika.${a.f}`;
    a.task = await asyncProcessObject(ac, 'in/mika.flac',
      `audio/convert,ss_1000,t_2000,f_${a.f},ar_${a.ar},ac_${a.ac}|sys/saveas,b_${b64(ABUCKET)},o_${b64(a.key)}`);
  }

  // ---- refusals: the parser's message, nothing written ------------------------------------
  log('async: refusals');
  const bad = [
    [`audio/convert,f_amr,ar_44100,ac_1|sys/saveas,o_${b64('out/bad.amr')}`, /ar 44100.*amr.*8000, 16000/],
    [`audio/convert,f_mp3,ac_6|sys/saveas,o_${b64('out/bad.mp3')}`, /ac 6.*mp3/],
    [`audio/convert,f_aac,aq_50,ab_96000|sys/saveas,o_${b64('out/bad.aac')}`, /aq.*ab|ab.*aq/],
    [`video/explode,f_mp4|sys/saveas,o_${b64('out/bad.mp4')}`, /unknown action "video\/explode"/],
    ['audio/convert,f_mp3', /sys\/saveas/],
  ];
  for (const [proc, pattern] of bad) {
    const e = await expectOssError(proc, asyncProcessObject(ac, 'in/mika.flac', proc), 400,
      proc.endsWith('f_mp3') ? 'MissingArgument' : 'InvalidArgument', pattern);
    assert.ok(e.hostId, 'HostId');
  }
  await expectOssError('missing source', asyncProcessObject(ac, 'in/none.flac',
    `audio/convert,f_mp3|sys/saveas,o_${b64('out/x.mp3')}`), 404, 'NoSuchKey');
  await expectOssError('bucket attached to no project', asyncProcessObject(lone, 'in/friday.mp4',
    `video/animation,f_gif,num_2|sys/saveas,o_${b64('out/a.gif')}`), 404, 'Imm Client',
    /^ResourceNotFound, The specified resource Attachment is not found: bucket "lone-bucket".*\[oss_buckets\] lone-bucket = <project>/);
  await expectOssError('topic without a webhook', asyncProcessObject(vc, 'in/friday.mp4',
    `video/animation,f_gif,num_2|sys/saveas,o_${b64('out/a.gif')}/notify,topic_${b64('no-such-topic')}`),
    400, 'Imm Client', /no-such-topic/);
  /* (the tasks above write beside them meanwhile: look for the refused names only) */
  for (const b of [ABUCKET, VBUCKET])
    assert.deepEqual(filesBelow(path.join(DIR, 'buckets', b)).filter((f) => /bad|x\.mp3|a\.gif/.test(f)), [],
      'refusals write nothing');
  assert.deepEqual(filesBelow(path.join(DIR, 'buckets', LONE)), ['in/friday.mp4']);

  // ---- synchronous --------------------------------------------------------------------------
  log('sync: video/snapshot, processObjectSave, info');
  let r = await vc.get('in/friday.mp4', { process: 'video/snapshot,t_1000,f_jpg,w_320' });
  assert.equal(r.res.status, 200);
  assert.equal(r.res.headers['content-type'], 'image/jpeg');
  assert.ok(/^[0-9A-F]{24}$/.test(r.res.headers['x-oss-request-id']));
  assert.deepEqual(jpegSize(r.content), { width: 320, height: 240 });
  r = await vc.get('in/friday.mp4', { process: 'video/snapshot,t_2000,f_png,w_100,h_50,m_fast,ar_auto' });
  assert.equal(r.res.headers['content-type'], 'image/png');
  assert.deepEqual(pngSize(r.content), { width: 100, height: 50 });

  r = await vc.processObjectSave('in/friday.mp4', 'out/snap ü.png', 'video/snapshot,t_1000,f_png,w_160');
  assert.equal(r.status, 200, `processObjectSave: ${r.status} ${r.res.data}`);
  const saved = JSON.parse(r.res.data.toString('utf8'));
  const png = (await vc.get('out/snap ü.png')).content;
  assert.deepEqual(saved, { bucket: VBUCKET, fileSize: png.length, object: 'out/snap ü.png', status: 'OK' });
  assert.deepEqual(pngSize(png), { width: 160, height: 120 });
  /* saveas into another bucket */
  r = await vc.processObjectSave('in/friday.mp4', 'snaps/s.jpg', 'video/snapshot,t_500,f_jpg', ABUCKET);
  assert.equal(r.status, 200);
  assert.deepEqual(jpegSize((await ac.get('snaps/s.jpg')).content), { width: 640, height: 480 });

  r = await vc.get('in/friday.mp4', { process: 'video/info' });
  assert.equal(r.res.headers['content-type'], 'application/json');
  let info = JSON.parse(r.content.toString('utf8'));
  assert.ok(Math.abs(info.Duration - 6.17) < 0.1, `Duration ${info.Duration}`);
  assert.equal(info.VideoStreams.length, 1);
  assert.equal(info.VideoStreams[0].CodecName, 'h264');
  assert.equal(info.VideoStreams[0].Width, 640);
  assert.equal(info.VideoStreams[0].Height, 480);
  assert.equal(info.AudioStreams[0].SampleRate, 44100);
  assert.equal(info.Size, fs.statSync(FRIDAY).size);
  r = await ac.get('in/roar.mp3', { process: 'audio/info' });
  info = JSON.parse(r.content.toString('utf8'));
  assert.equal(info.AudioStreams.length, 1);
  assert.equal(info.AudioStreams[0].CodecName, 'mp3');
  assert.equal(info.AudioStreams[0].Channels, 2);
  assert.ok(Math.abs(info.Duration - 2.12) < 0.1, `Duration ${info.Duration}`);
  assert.equal(info.VideoStreams, undefined);

  await expectOssError('bad sync string', vc.get('in/friday.mp4', { process: 'video/snapshot,t_abc,f_jpg' }),
    400, 'InvalidArgument', /video\/snapshot: t/);
  await expectOssError('sync without t', vc.get('in/friday.mp4', { process: 'video/snapshot,f_jpg' }),
    400, 'MissingArgument', /t \(the time in ms\) is required/);
  await expectOssError('async action as x-oss-process', vc.get('in/friday.mp4', { process: 'video/convert,f_mp4' }),
    400, 'InvalidArgument', /unknown action "video\/convert"/);
  await expectOssError('video/info of audio', ac.get('in/roar.mp3', { process: 'video/info' }),
    400, 'Imm Client', /^InvalidMedia, video\/info: the object has no video stream/);
  await expectOssError('snapshot of a missing object', vc.get('in/none.mp4', { process: 'video/snapshot,t_0,f_jpg' }),
    404, 'NoSuchKey');
  r = await vc.processObjectSave('in/friday.mp4', 'out/never.png', 'video/snapshot,t_1000,f_gif');
  assert.equal(r.status, 400);
  assert.ok(!fs.existsSync(path.join(DIR, 'buckets', VBUCKET, 'out', 'never.png')));
  for (const b of [VBUCKET, ABUCKET])
    assert.ok(!filesBelow(path.join(DIR, 'buckets', b)).some((f) => f.startsWith('.mc-sync')),
      `no temporary picture left in ${b}: ${filesBelow(path.join(DIR, 'buckets', b))}`);

  // ---- the asynchronous results -----------------------------------------------------------
  log('async: results');
  let t = await waitTask(ic, 'media-proj', anim.TaskId);
  assert.equal(t.Status, 'Succeeded', `animation: ${t.Code} ${t.Message}`);
  let p = probe(await download(vc, 'out/anim.gif', 'anim.gif'), true);
  assert.equal(p.streams[0].codec_name, 'gif');
  assert.equal(p.streams[0].width, 160);
  assert.equal(p.streams[0].height, 120);
  assert.equal(Number(p.streams[0].nb_read_frames), 4, 'num_4: four frames');
  for (const a of audio) {
    t = await waitTask(ic, ABUCKET, a.task.TaskId);
    assert.equal(t.Status, 'Succeeded', `${a.f}: ${t.Code} ${t.Message}`);
    p = probe(await download(ac, a.key, `mika.${a.f}`), false);
    const s = p.streams.find((x) => x.codec_type === 'audio');
    assert.equal(s.codec_name, a.codec, `${a.f}: codec`);
    assert.equal(Number(s.sample_rate), a.ar, `${a.f}: sample rate`);
    assert.equal(s.channels, a.ac, `${a.f}: channels`);
    const d = Number(p.format.duration);
    assert.ok(Math.abs(d - 2.0) < 0.15, `${a.f}: duration ${d}`);
  }

  const st = await stopDaemon();
  assert.equal(st.code, 0, `daemon exit ${JSON.stringify(st)}`);
  const text = fs.readFileSync(LOG, 'utf8');
  assert.ok(!/AddressSanitizer|LeakSanitizer|runtime error/.test(text), `sanitizer report in the log:\n${text}`);
  fs.rmSync(DIR, { recursive: true, force: true });
  console.log('e2e_oss_media: all checks passed');
}

main().catch(async (err) => {
  console.error(err && err.stack ? err.stack : err);
  await stopDaemon().catch(() => {});
  try { console.error(`--- daemon log ---\n${fs.readFileSync(LOG, 'utf8').slice(-6000)}`); } catch (e) { /* none */ }
  process.exit(1);
});
