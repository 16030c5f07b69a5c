#!/usr/bin/env node
'use strict';
/*
 * e2e_sdk: the official, unmodified Alibaba Cloud OpenAPI Node cores against a real
 * mediaconvertd.
 *
 * @alicloud/imm20200930 (the generated IMM SDK) is not on the npm registry, but all it adds
 * on top of the generic core is (sdk-wire.md 2.1): nested parameters shrunk to one JSON
 * string each (OpenApiUtil.arrayToStringWithSpecifiedStyle(..., 'json')), everything in the
 * query (OpenApiUtil.query), fixed RPC Params, then a cast of the answer onto its response
 * model. This script does the same with:
 *   - @alicloud/openapi-client 0.4.15 + openapi-util 0.3.3 + tea-util 1.4.11
 *     (the core of @alicloud/imm20200930 <= 4.4.1), default ACS3-HMAC-SHA256 signing;
 *   - the same with signatureAlgorithm 'v2' (legacy RPC HMAC-SHA1, doRPCRequest);
 *   - @alicloud/openapi-core 1.0.8 + @darabonba/typescript 1.0.5 (the core of
 *     @alicloud/imm20200930 >= 4.4.2, 5.x), ACS3;
 *   - openapi-core with signatureAlgorithm 'v2'.
 * The answers are cast onto models declaring the generated SDK's field names and types
 * (GetTaskResponseBody, TaskInfo, ...) with the libraries' own cast, which is where a wrong
 * field type would make the real SDK throw.
 *
 * Environment (set by ctest): MC_DAEMON (mediaconvertd), MC_TEST_STORE (fixtures),
 * MC_TEST_TMP (scratch). Exit 0 pass, 1 fail, 77 skip (node_modules not installed: run
 * scripts/install-node-deps.sh).
 */

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

// ---- the official packages, unmodified --------------------------------------------------
let libs;
try {
  const oc = require('@alicloud/openapi-client');
  const core = require('@alicloud/openapi-core');
  const dara = require('@darabonba/typescript');
  // tea-typescript is what the openapi-client generation of the SDK casts with ($tea.cast);
  // take the copy openapi-client itself uses.
  const tea = require(require.resolve('@alicloud/tea-typescript',
    { paths: [path.dirname(require.resolve('@alicloud/openapi-client'))] }));
  libs = {
    client: {
      OpenApiClient: oc.default,
      Config: oc.Config,
      OpenApiRequest: oc.OpenApiRequest,
      Params: oc.Params,
      OpenApiUtil: require('@alicloud/openapi-util').default,
      RuntimeOptions: require('@alicloud/tea-util').RuntimeOptions,
      Model: tea.Model,
      cast: tea.cast,
    },
    core: {
      OpenApiClient: core.default,
      Config: core.$OpenApiUtil.Config,
      OpenApiRequest: core.$OpenApiUtil.OpenApiRequest,
      Params: core.$OpenApiUtil.Params,
      OpenApiUtil: core.OpenApiUtil,
      RuntimeOptions: dara.RuntimeOptions,
      Model: dara.Model,
      cast: dara.cast,
      ClientError: core.ClientError,
    },
  };
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND') {
    console.log(`SKIP: the Alibaba Cloud SDK packages are not installed (${e.message.split('\n')[0]}).\n` +
      'Run scripts/install-node-deps.sh (npm ci in tests/e2e/sdk).');
    process.exit(77);
  }
  throw e;
}

// ---- response models: names and types as in the generated @alicloud/imm20200930 ---------
function makeModels(Model) {
  const model = (names, types) => class extends Model {
    static names() { return names; }
    static types() { return types; }
    constructor(map) { super(map); }
  };
  const TAGS = { type: 'map', keyType: 'string', valueType: 'any' };
  const taskFields = {
    code: ['Code', 'string'], endTime: ['EndTime', 'string'], message: ['Message', 'string'],
    progress: ['Progress', 'number'], startTime: ['StartTime', 'string'],
    status: ['Status', 'string'], tags: ['Tags', TAGS], taskId: ['TaskId', 'string'],
    taskRequestDefinition: ['TaskRequestDefinition', 'string'],
    taskType: ['TaskType', 'string'], userData: ['UserData', 'string'],
  };
  const build = (fields) => {
    const names = {}; const types = {};
    for (const [k, [n, t]] of Object.entries(fields)) { names[k] = n; types[k] = t; }
    return model(names, types);
  };
  const response = (Body) => build({
    headers: ['headers', { type: 'map', keyType: 'string', valueType: 'string' }],
    statusCode: ['statusCode', 'number'],
    body: ['body', Body],
  });
  const TaskInfo = build(taskFields);
  const Project = build({
    createTime: ['CreateTime', 'string'], datasetCount: ['DatasetCount', 'number'],
    description: ['Description', 'string'], engineConcurrency: ['EngineConcurrency', 'number'],
    fileCount: ['FileCount', 'number'], projectName: ['ProjectName', 'string'],
    serviceRole: ['ServiceRole', 'string'], templateId: ['TemplateId', 'string'],
    totalFileSize: ['TotalFileSize', 'number'], updateTime: ['UpdateTime', 'string'],
  });
  return {
    CreateProjectResponse: response(build({ project: ['Project', Project], requestId: ['RequestId', 'string'] })),
    GetProjectResponse: response(build({ project: ['Project', Project], requestId: ['RequestId', 'string'] })),
    ListProjectsResponse: response(build({
      nextToken: ['NextToken', 'string'], requestId: ['RequestId', 'string'],
      projects: ['Projects', { type: 'array', itemType: Project }],
    })),
    DeleteProjectResponse: response(build({ requestId: ['RequestId', 'string'] })),
    CreateMediaConvertTaskResponse: response(build({
      eventId: ['EventId', 'string'], requestId: ['RequestId', 'string'], taskId: ['TaskId', 'string'],
    })),
    GetTaskResponse: response(build({
      ...taskFields, eventId: ['EventId', 'string'], projectName: ['ProjectName', 'string'],
      requestId: ['RequestId', 'string'],
    })),
    ListTasksResponse: response(build({
      maxResults: ['MaxResults', 'string'], nextToken: ['NextToken', 'string'],
      projectName: ['ProjectName', 'string'], requestId: ['RequestId', 'string'],
      tasks: ['Tasks', { type: 'array', itemType: TaskInfo }],
    })),
    // CancelTask is our extension: no SDK model; a plain body is checked instead.
    CancelTaskResponse: response(build({
      requestId: ['RequestId', 'string'], taskId: ['TaskId', 'string'], status: ['Status', 'string'],
    })),
  };
}

// ---- environment ----------------------------------------------------------------------------
const DAEMON = process.env.MC_DAEMON;
const STORE = process.env.MC_TEST_STORE;
if (!DAEMON || !STORE) {
  console.error('usage: MC_DAEMON=.../mediaconvertd MC_TEST_STORE=.../tests/store [MC_TEST_TMP=DIR] node imm-sdk.test.js');
  process.exit(1);
}
const FIXTURE = path.join(STORE, 'fixtures', 'bframes.mp4');
const TMP = process.env.MC_TEST_TMP || os.tmpdir();
fs.mkdirSync(TMP, { recursive: true });
const DIR = fs.mkdtempSync(path.join(TMP, 'e2e_sdk-'));

const AK = 'LTAI5tSdkE2e' + crypto.randomBytes(6).toString('hex').toUpperCase();
const SK = crypto.randomBytes(22).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');
const TOPIC = 'sdk-e2e-topic';
const USER_DATA = '{"job":"42","note":"ä ü + / ? & = * ( ) \' ! ~ % # ; : @ $ ,"}';
const SRC = 'oss://media/in/bframes.mp4';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let where = 'start-up'; // the variant and step running, for failure reports
const step = (s) => { where = s; };
const log = (...a) => console.log('[e2e_sdk]', ...a);

// ---- webhook receiver (the MNS topic's URL) ------------------------------------------------
const notifications = [];
function startWebhook() {
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      notifications.push({ method: req.method, url: req.url, headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

// ---- the daemon ----------------------------------------------------------------------------
let daemon = null; // { child, exited: Promise<{code, signal}> }
const LOG = path.join(DIR, 'daemon.log');
// ctest passes LSAN_OPTIONS/ASAN_OPTIONS; by hand, default to the same suppressions (leaks
// inside third-party codec libraries) so that only the daemon's own leaks fail the test.
const DAEMON_ENV = {
  LSAN_OPTIONS: `suppressions=${path.resolve(__dirname, '..', '..', 'lsan.supp')}`,
  ASAN_OPTIONS: 'fast_unwind_on_malloc=0:malloc_context_size=24',
  ...process.env,
};

async function startDaemon(webhookPort) {
  fs.writeFileSync(path.join(DIR, 'config.ini'), [
    '[keys]', `${AK} = ${SK}`,
    '[projects]', 'sdk-preconfigured = configured in the INI file',
    '[workers]', 'count = 2',
    '[topics]', `${TOPIC} = http://127.0.0.1:${webhookPort}/mns/${TOPIC}`,
    '',
  ].join('\n'));
  const inDir = path.join(DIR, 'buckets', 'media', 'in');
  fs.mkdirSync(inDir, { recursive: true });
  fs.mkdirSync(path.join(DIR, 'buckets', 'out'), { recursive: true });
  fs.copyFileSync(FIXTURE, path.join(inDir, 'bframes.mp4'));
  const portFile = path.join(DIR, 'port');
  const logFd = fs.openSync(LOG, 'w');
  const child = spawn(DAEMON, ['--config', path.join(DIR, 'config.ini'), '--listen', '127.0.0.1:0',
    '--data-dir', DIR, '--port-file', portFile], { env: DAEMON_ENV, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  daemon = { child, exited, done: false };
  exited.then(() => { daemon.done = true; });
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
  daemon = null;
  if (!d.done) d.child.kill('SIGTERM');
  const t = setTimeout(() => { if (!d.done) d.child.kill('SIGKILL'); }, 60000);
  const r = await d.exited;
  clearTimeout(t);
  return r;
}

// ---- driving the OpenAPI core the way the generated SDK does -------------------------------
class Imm {
  constructor(stackName, { port, sigAlg, secret, accessKeyId }) {
    this.stack = libs[stackName];
    this.stackName = stackName;
    this.models = makeModels(this.stack.Model);
    const cfg = {
      accessKeyId: accessKeyId || AK,
      accessKeySecret: secret || SK,
      endpoint: `127.0.0.1:${port}`, // host[:port], no scheme
      protocol: 'http', // overrides the 'HTTPS' in the generated Params
      regionId: 'cn-hangzhou',
    };
    if (sigAlg) cfg.signatureAlgorithm = sigAlg;
    this.client = new this.stack.OpenApiClient(new this.stack.Config(cfg));
  }

  // OpenApiUtil.arrayToStringWithSpecifiedStyle(x, name, 'json'): the SDK's Shrink step.
  shrink(v) { return this.stack.OpenApiUtil.arrayToStringWithSpecifiedStyle(v, 'X', 'json'); }

  // callApi with the generated Params, then the generated code's cast onto the response model.
  async call(action, query, responseModel) {
    const params = new this.stack.Params({
      action, version: '2020-09-30', protocol: 'HTTPS', pathname: '/', method: 'POST',
      authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
    });
    const req = new this.stack.OpenApiRequest({ query: this.stack.OpenApiUtil.query(query) });
    const raw = await this.client.callApi(params, req, new this.stack.RuntimeOptions({}));
    const Resp = this.models[responseModel || `${action}Response`];
    const typed = this.stack.cast(raw, new Resp({})); // throws on a field type the SDK rejects
    return { raw, typed, body: raw.body };
  }
}

// The model query order (alphabetical wire names), unset fields skipped.
const ordered = (o) => Object.fromEntries(Object.keys(o).sort()
  .filter((k) => o[k] !== undefined && o[k] !== null).map((k) => [k, o[k]]));

async function expectError(what, fn, check) {
  let err = null;
  try { await fn(); } catch (e) { err = e; }
  assert.ok(err, `${what}: no error thrown`);
  assert.ok(!(err instanceof SyntaxError) && err.name !== 'SyntaxError',
    `${what}: the client could not parse the error body: ${err.stack}`);
  try {
    check(err);
  } catch (e) {
    e.message += `\n  (${what}: thrown ${err.name}: code=${err.code} statusCode=${err.statusCode} message=${err.message} data=${JSON.stringify(err.data)})`;
    throw e;
  }
  return err;
}

function checkErrorShape(c, err, code, status) {
  assert.equal(err.code, code);
  assert.equal(err.statusCode, status);
  assert.ok(err.data && typeof err.data === 'object', 'error .data is the parsed body');
  assert.equal(err.data.Code, code);
  assert.equal(typeof err.data.RequestId, 'string');
  assert.ok(err.data.RequestId.length > 0);
  assert.ok(err.message.startsWith(`${code}: code: ${status}, `), `message: ${err.message}`);
  assert.ok(err.message.endsWith(` request id: ${err.data.RequestId}`), `message: ${err.message}`);
  if (c.stackName === 'core') {
    assert.ok(err instanceof libs.core.ClientError, `openapi-core: a ClientError, not ${err.name}`);
    assert.equal(err.requestId, err.data.RequestId);
  }
}

const isTime = (s) => typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) &&
  !Number.isNaN(Date.parse(s));

function ffprobe(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height',
    '-of', 'json', file], { encoding: 'utf8' });
  return JSON.parse(out).streams;
}

async function waitTask(c, project, taskId, timeoutMs = 120000) {
  const t0 = Date.now();
  for (;;) {
    const r = await c.call('GetTask', ordered({ ProjectName: project, TaskId: taskId, TaskType: 'MediaConvert' }));
    const b = r.body;
    assert.equal(typeof b.Progress, 'number', `Progress is a number (${JSON.stringify(b.Progress)})`);
    assert.ok(b.Progress >= 0 && b.Progress <= 100, `Progress in 0..100: ${b.Progress}`);
    assert.equal(r.typed.body.progress, b.Progress);
    assert.ok(['Running', 'Succeeded', 'Failed'].includes(b.Status), `IMM status: ${b.Status}`);
    if (b.Status !== 'Running') return r;
    if (Date.now() - t0 > timeoutMs) throw new Error(`task ${taskId} still Running after ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function listAll(c, query) {
  const r = await c.call('ListTasks', ordered(query));
  assert.equal(typeof r.body.MaxResults, 'string', 'ListTasks MaxResults is a string');
  assert.equal(r.body.NextToken, '', 'NextToken "" on the last page');
  assert.ok(Array.isArray(r.body.Tasks));
  return r.body.Tasks.map((t) => t.TaskId);
}

async function waitNotification(taskId, timeoutMs = 60000) {
  const t0 = Date.now();
  for (;;) {
    for (const n of notifications) {
      let env; let content;
      try { env = JSON.parse(n.body); content = JSON.parse(env.content); } catch (e) { continue; }
      if (content && content.TaskId === taskId) return { n, env, content };
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`no notification for ${taskId} within ${timeoutMs} ms (got ${notifications.length})`);
    await sleep(100);
  }
}

// ---- one full pass with one client configuration -------------------------------------------
async function scenario(port, variant) {
  const { name, stack, sigAlg } = variant;
  const c = new Imm(stack, { port, sigAlg });
  const project = `sdk-${name}`;
  const outKey = `sdk/${name}/a.mp4`;
  log(`--- ${name}: ${stack === 'core' ? '@alicloud/openapi-core 1.0.8' : '@alicloud/openapi-client 0.4.15'}, ${sigAlg === 'v2' ? 'legacy RPC HMAC-SHA1 (v2)' : 'ACS3-HMAC-SHA256'}`);

  // 1. projects
  step(`${name}: projects`);
  const description = 'SDK e2e ä ü + & = *';
  let r = await c.call('CreateProject', ordered({ Description: description, ProjectName: project }));
  assert.equal(r.raw.statusCode, 200);
  assert.equal(r.body.Project.ProjectName, project);
  assert.equal(r.body.Project.Description, description);
  assert.ok(isTime(r.body.Project.CreateTime), `CreateTime: ${r.body.Project.CreateTime}`);
  assert.equal(r.typed.body.project.projectName, project);
  assert.equal(r.raw.headers['x-acs-request-id'], r.body.RequestId);
  await expectError('CreateProject twice', () => c.call('CreateProject', ordered({ ProjectName: project })),
    (e) => checkErrorShape(c, e, 'ResourceAlreadyExists', 409));
  await expectError('CreateProject with a bad name', () => c.call('CreateProject', ordered({ ProjectName: 'no spaces/allowed' })),
    (e) => checkErrorShape(c, e, 'InvalidArgument', 400));
  r = await c.call('GetProject', ordered({ ProjectName: project }));
  assert.equal(r.typed.body.project.projectName, project);
  assert.equal(r.typed.body.project.description, description);
  r = await c.call('GetProject', ordered({ ProjectName: 'sdk-preconfigured' }));
  assert.equal(r.body.Project.Description, 'configured in the INI file');
  r = await c.call('ListProjects', ordered({ MaxResults: 100 }));
  const names = r.typed.body.projects.map((p) => p.projectName);
  assert.ok(names.includes(project) && names.includes('sdk-preconfigured'), `ListProjects: ${names}`);
  assert.equal(r.body.NextToken, '');
  const scratch = `${project}-scratch`;
  await c.call('CreateProject', ordered({ ProjectName: scratch }));
  r = await c.call('DeleteProject', ordered({ ProjectName: scratch }));
  assert.equal(typeof r.body.RequestId, 'string');
  await expectError('GetProject after DeleteProject', () => c.call('GetProject', ordered({ ProjectName: scratch })),
    (e) => checkErrorShape(c, e, 'ResourceNotFound', 404));
  await expectError('DeleteProject twice', () => c.call('DeleteProject', ordered({ ProjectName: scratch })),
    (e) => checkErrorShape(c, e, 'ResourceNotFound', 404));

  // 2. CreateMediaConvertTask, everything nested shrunk to JSON as the generated SDK does
  step(`${name}: CreateMediaConvertTask`);
  const sources = [{ URI: SRC }];
  const targets = [{
    Audio: { TranscodeAudio: { Bitrate: 64000, Codec: 'aac' } },
    Container: 'mp4',
    URI: `oss://out/${outKey}`,
    Video: { TranscodeVideo: { Codec: 'h264', Resolution: '320x180' } },
  }];
  const tags = { env: 'sdk-e2e', team: 'media & co', variant: name, 'space key': 'ä ü' };
  const notification = { MNS: { TopicName: TOPIC } };
  const created = await c.call('CreateMediaConvertTask', ordered({
    Notification: c.shrink(notification),
    ProjectName: project,
    Sources: c.shrink(sources),
    Tags: c.shrink(tags),
    Targets: c.shrink(targets),
    UserData: USER_DATA,
  }));
  const taskId = created.body.TaskId;
  assert.match(taskId, /^MediaConvert-[0-9a-f-]{36}$/);
  assert.equal(created.typed.body.taskId, taskId);
  assert.equal(typeof created.body.EventId, 'string');
  assert.ok(created.body.EventId.length > 0);
  assert.equal(typeof created.body.RequestId, 'string');
  log(`${name}: created ${taskId}`);

  // 3. GetTask until done
  step(`${name}: GetTask until ${taskId} is done`);
  r = await waitTask(c, project, taskId);
  let b = r.body;
  assert.equal(b.Status, 'Succeeded', `task failed: ${b.Code}: ${b.Message}`);
  assert.equal(b.Progress, 100);
  assert.equal(b.Code, '');
  assert.equal(typeof b.Message, 'string');
  assert.equal(b.TaskId, taskId);
  assert.equal(b.TaskType, 'MediaConvert');
  assert.equal(b.ProjectName, project);
  assert.equal(b.EventId, created.body.EventId);
  assert.equal(b.UserData, USER_DATA);
  assert.ok(b.Tags && typeof b.Tags === 'object' && !Array.isArray(b.Tags), 'Tags is an object');
  assert.deepEqual(b.Tags, tags);
  assert.deepEqual(r.typed.body.tags, tags);
  assert.ok(isTime(b.StartTime), `StartTime: ${JSON.stringify(b.StartTime)}`);
  assert.ok(isTime(b.EndTime), `EndTime: ${JSON.stringify(b.EndTime)}`);
  assert.ok(Date.parse(b.EndTime) >= Date.parse(b.StartTime));
  assert.equal(b.TaskRequestDefinition, undefined, 'no TaskRequestDefinition unless asked for');
  assert.equal(r.typed.body.status, 'Succeeded');
  assert.equal(r.typed.body.userData, USER_DATA);
  const t1 = b;

  // the output, in the daemon's object store
  step(`${name}: the output file`);
  const outFile = path.join(DIR, 'buckets', 'out', ...outKey.split('/'));
  assert.ok(fs.existsSync(outFile), `output ${outFile} exists`);
  assert.ok(fs.statSync(outFile).size > 0, 'output is not empty');
  const streams = ffprobe(outFile);
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  assert.ok(v && a, `video and audio streams: ${JSON.stringify(streams)}`);
  assert.equal(v.codec_name, 'h264');
  assert.equal(v.width, 320);
  assert.equal(v.height, 180);
  assert.equal(a.codec_name, 'aac');

  // 4. GetTask with RequestDefinition=true
  step(`${name}: GetTask with RequestDefinition`);
  r = await c.call('GetTask', ordered({ ProjectName: project, RequestDefinition: true, TaskId: taskId, TaskType: 'MediaConvert' }));
  assert.equal(typeof r.body.TaskRequestDefinition, 'string', 'TaskRequestDefinition is a JSON string');
  assert.equal(r.typed.body.taskRequestDefinition, r.body.TaskRequestDefinition);
  const def = JSON.parse(r.body.TaskRequestDefinition);
  const unshrink = (x) => (typeof x === 'string' ? JSON.parse(x) : x);
  assert.equal(def.ProjectName, project);
  assert.equal(def.UserData, USER_DATA);
  assert.deepEqual(unshrink(def.Sources), sources);
  assert.deepEqual(unshrink(def.Targets), targets);
  assert.deepEqual(unshrink(def.Tags), tags);

  // the notification envelope, posted to the MNS topic's URL
  step(`${name}: the notification`);
  const { n, env, content } = await waitNotification(taskId);
  assert.equal(n.method, 'POST');
  assert.equal(n.url, `/mns/${TOPIC}`);
  assert.equal(env.source, 'acs.imm');
  assert.equal(env.type, 'imm:Task:MediaConvert');
  assert.equal(typeof env.content, 'string', 'envelope content is a JSON string');
  assert.equal(content.TaskId, taskId);
  assert.equal(content.ProjectName, project);
  assert.equal(content.Status, 'Succeeded');
  assert.equal(content.UserData, USER_DATA);
  assert.equal(content.Targets[0].URI, `oss://out/${outKey}`);

  // a task that fails (no such source object), and one canceled (the CancelTask extension)
  step(`${name}: a failing task`);
  await sleep(1100); // t1 and the later tasks start in different seconds (StartTimeRange below)
  const failed = await c.call('CreateMediaConvertTask', ordered({
    ProjectName: project,
    Sources: c.shrink([{ URI: 'oss://media/in/does-not-exist.mp4' }]),
    Tags: c.shrink({ env: 'other' }),
    Targets: c.shrink([{ Container: 'mp4', URI: `oss://out/sdk/${name}/never.mp4` }]),
  }));
  const t2id = failed.body.TaskId;
  r = await waitTask(c, project, t2id);
  assert.equal(r.body.Status, 'Failed');
  assert.ok(r.body.Code.length > 0, 'a failed task has a Code');
  assert.ok(r.body.Message.length > 0, 'a failed task has a Message');
  assert.ok(isTime(r.body.EndTime));
  const t2 = r.body;

  step(`${name}: a slow task to cancel`);
  const slow = await c.call('CreateMediaConvertTask', ordered({
    ProjectName: project,
    Sources: c.shrink(sources),
    Targets: c.shrink([{
      Audio: { DisableAudio: true }, Container: 'mkv', URI: `oss://out/sdk/${name}/slow.mkv`,
      Video: { TranscodeVideo: { CRF: 10, Codec: 'h265', Resolution: '1920x1080' } },
    }]),
  }));
  const t3id = slow.body.TaskId;
  step(`${name}: CancelTask`);
  r = await c.call('CancelTask', ordered({ ProjectName: project, TaskId: t3id }));
  assert.equal(r.body.TaskId, t3id);
  assert.equal(typeof r.body.Status, 'string');
  r = await waitTask(c, project, t3id);
  assert.equal(r.body.Status, 'Failed');
  assert.equal(r.body.Code, 'TaskCanceled');
  await expectError('CancelTask of a finished task', () => c.call('CancelTask', ordered({ ProjectName: project, TaskId: taskId })),
    (e) => checkErrorShape(c, e, 'TaskFinished', 409));
  await expectError('CancelTask of an unknown task', () => c.call('CancelTask', ordered({ ProjectName: project, TaskId: 'MediaConvert-00000000-0000-0000-0000-000000000000' })),
    (e) => checkErrorShape(c, e, 'ResourceNotFound', 404));

  // 5. ListTasks
  step(`${name}: ListTasks`);
  r = await c.call('ListTasks', ordered({ ProjectName: project }));
  assert.equal(typeof r.body.MaxResults, 'string', 'MaxResults comes back as a string');
  assert.equal(r.body.NextToken, '');
  assert.equal(r.body.ProjectName, project);
  assert.equal(r.typed.body.tasks.length, 3);
  const listed = r.body.Tasks.find((t) => t.TaskId === taskId);
  assert.ok(listed, 'ListTasks finds the task');
  assert.equal(listed.Status, 'Succeeded');
  assert.equal(listed.Progress, 100);
  assert.equal(listed.TaskType, 'MediaConvert');
  assert.equal(listed.UserData, USER_DATA);
  assert.deepEqual(listed.Tags, tags);
  assert.equal(listed.StartTime, t1.StartTime);
  assert.equal(listed.EndTime, t1.EndTime);
  assert.equal(listed.TaskRequestDefinition, undefined);
  const all = new Set([taskId, t2id, t3id]);
  assert.deepEqual(new Set(r.body.Tasks.map((t) => t.TaskId)), all);

  // the filters as the SDK sends them (sdk-wire.md 2.3)
  const q = (extra) => ({ ProjectName: project, ...extra });
  assert.deepEqual(await listAll(c, q({ Status: 'Succeeded' })), [taskId]);
  assert.deepEqual(new Set(await listAll(c, q({ Status: 'Failed' }))), new Set([t2id, t3id]));
  assert.deepEqual(await listAll(c, q({ Status: 'Running' })), []);
  assert.deepEqual(await listAll(c, q({ TagSelector: 'env=sdk-e2e' })), [taskId]);
  assert.deepEqual(await listAll(c, q({ TagSelector: 'env=other' })), [t2id]);
  assert.deepEqual(await listAll(c, q({ TagSelector: 'team=media & co' })), [taskId]);
  assert.deepEqual(await listAll(c, q({ TagSelector: 'env=nobody' })), []);
  assert.deepEqual(new Set(await listAll(c, q({ TaskTypes: c.shrink(['MediaConvert']) }))), all);
  assert.deepEqual(await listAll(c, q({ TaskTypes: c.shrink(['VideoLabelClassification']) })), []);
  assert.deepEqual(await listAll(c, q({ Order: 'ASC', Sort: 'StartTime' })), [taskId, t2id, t3id]);
  assert.deepEqual(await listAll(c, q({ Order: 'DESC', Sort: 'StartTime' })), [t3id, t2id, taskId]);
  const secondOf = (s) => new Date(Math.floor(Date.parse(s) / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  assert.deepEqual(await listAll(c, q({
    Order: 'ASC', Sort: 'StartTime',
    StartTimeRange: c.shrink({ End: '2099-01-01T00:00:00Z', Start: secondOf(t2.StartTime) }),
  })), [t2id, t3id]);
  assert.deepEqual(await listAll(c, q({
    EndTimeRange: c.shrink({ End: '2099-01-01T00:00:00Z', Start: '2000-01-01T00:00:00Z' }),
    MaxResults: 10, Order: 'DESC', Sort: 'StartTime', Status: 'Succeeded',
    TagSelector: 'env=sdk-e2e', TaskTypes: c.shrink(['MediaConvert']),
  })), [taskId]);
  assert.deepEqual(await listAll(c, q({ EndTimeRange: c.shrink({ Start: '2099-01-01T00:00:00Z' }) })), []);
  // RequestDefinition in ListTasks
  r = await c.call('ListTasks', ordered(q({ RequestDefinition: true, Status: 'Succeeded' })));
  assert.equal(r.body.Tasks.length, 1);
  assert.equal(typeof r.body.Tasks[0].TaskRequestDefinition, 'string');
  assert.equal(JSON.parse(r.body.Tasks[0].TaskRequestDefinition).ProjectName, project);
  // pages of one
  const seen = [];
  let token;
  for (let page = 0; page < 6; page++) {
    r = await c.call('ListTasks', ordered(q({ MaxResults: 1, NextToken: token, Order: 'ASC', Sort: 'StartTime' })));
    assert.equal(typeof r.body.MaxResults, 'string');
    assert.ok(r.body.Tasks.length <= 1);
    assert.equal(r.body.MaxResults, String(r.body.Tasks.length));
    seen.push(...r.body.Tasks.map((t) => t.TaskId));
    token = r.body.NextToken;
    assert.equal(typeof token, 'string');
    if (token === '') break;
  }
  assert.equal(token, '', 'the last page has NextToken ""');
  assert.deepEqual(seen, [taskId, t2id, t3id]);

  // 6. errors
  step(`${name}: errors`);
  await expectError('GetTask in an unknown project',
    () => c.call('GetTask', ordered({ ProjectName: 'no-such-project', TaskId: taskId, TaskType: 'MediaConvert' })),
    (e) => checkErrorShape(c, e, 'ResourceNotFound', 404));
  await expectError('CreateMediaConvertTask in an unknown project',
    () => c.call('CreateMediaConvertTask', ordered({
      ProjectName: 'no-such-project', Sources: c.shrink(sources), Targets: c.shrink(targets) })),
    (e) => checkErrorShape(c, e, 'ResourceNotFound', 404));
  await expectError('ListTasks in an unknown project',
    () => c.call('ListTasks', ordered({ ProjectName: 'no-such-project' })),
    (e) => checkErrorShape(c, e, 'ResourceNotFound', 404));
  await expectError('GetTask of an unknown task',
    () => c.call('GetTask', ordered({ ProjectName: project, TaskId: 'MediaConvert-00000000-0000-0000-0000-000000000000', TaskType: 'MediaConvert' })),
    (e) => checkErrorShape(c, e, 'ResourceNotFound', 404));
  await expectError('Targets that are not JSON',
    () => c.call('CreateMediaConvertTask', ordered({
      ProjectName: project, Sources: c.shrink(sources), Targets: '[{"Container":"mp4","URI":' })),
    (e) => {
      assert.ok(['InvalidArgument', 'InvalidJSON'].includes(e.code), `code ${e.code}`);
      checkErrorShape(c, e, e.code, 400);
    });
  await expectError('Targets of the wrong type',
    () => c.call('CreateMediaConvertTask', ordered({
      ProjectName: project, Sources: c.shrink(sources), Targets: c.shrink({ Container: 'mp4' }) })),
    (e) => {
      assert.ok(['InvalidArgument', 'InvalidJSON'].includes(e.code), `code ${e.code}`);
      checkErrorShape(c, e, e.code, 400);
    });
  await expectError('an Image target (not served in this version)',
    () => c.call('CreateMediaConvertTask', ordered({
      ProjectName: project, Sources: c.shrink(sources),
      Targets: c.shrink([{ Image: { Snapshots: [{ Format: 'jpg', Number: 1, StartTime: 0, URI: `oss://out/sdk/${name}/snap.jpg` }] },
        URI: `oss://out/sdk/${name}/snaps` }]) })),
    (e) => checkErrorShape(c, e, 'InvalidArgument', 400));
  await expectError('an unconfigured notification topic',
    () => c.call('CreateMediaConvertTask', ordered({
      Notification: c.shrink({ MNS: { TopicName: 'not-configured' } }),
      ProjectName: project, Sources: c.shrink(sources), Targets: c.shrink(targets) })),
    (e) => checkErrorShape(c, e, 'InvalidArgument', 400));
  await expectError('MaxResults out of range',
    () => c.call('ListTasks', ordered({ MaxResults: 1000, ProjectName: project })),
    (e) => checkErrorShape(c, e, 'InvalidArgument', 400));
  const wrong = new Imm(stack, { port, sigAlg, secret: `${SK}-wrong` });
  await expectError('a client with a wrong secret',
    () => wrong.call('GetTask', ordered({ ProjectName: project, TaskId: taskId, TaskType: 'MediaConvert' })),
    (e) => {
      assert.equal(e.code, 'SignatureDoesNotMatch');
      assert.ok(e.statusCode >= 400 && e.statusCode < 500, `statusCode ${e.statusCode}`);
      checkErrorShape(c, e, 'SignatureDoesNotMatch', e.statusCode);
    });
  await expectError('a client with a wrong secret, CreateMediaConvertTask',
    () => wrong.call('CreateMediaConvertTask', ordered({
      ProjectName: project, Sources: c.shrink(sources), Targets: c.shrink(targets), UserData: USER_DATA })),
    (e) => assert.equal(e.code, 'SignatureDoesNotMatch'));
  const stranger = new Imm(stack, { port, sigAlg, accessKeyId: 'LTAI5tNoSuchKey000000000' });
  await expectError('an unknown AccessKeyId',
    () => stranger.call('ListTasks', ordered({ ProjectName: project })),
    (e) => checkErrorShape(c, e, 'InvalidAccessKeyId.NotFound', 404));
  log(`${name}: ok`);
}

// ---- main -------------------------------------------------------------------------------------
const VARIANTS = [
  { name: 'client-acs3', stack: 'client' },
  { name: 'client-v2', stack: 'client', sigAlg: 'v2' },
  { name: 'core-acs3', stack: 'core' },
  { name: 'core-v2', stack: 'core', sigAlg: 'v2' },
];

async function main() {
  const t0 = Date.now();
  log(`data dir ${DIR}`);
  const webhook = await startWebhook();
  let ok = false;
  try {
    const port = await startDaemon(webhook.address().port);
    log(`mediaconvertd on 127.0.0.1:${port}`);
    for (const v of VARIANTS) await scenario(port, v);
    ok = true;
  } catch (e) {
    console.error(`[e2e_sdk] FAILED in ${where}:`, e && e.stack ? e.stack : e);
    if (e && typeof e === 'object' && (e.code || e.statusCode || e.data)) {
      console.error(`[e2e_sdk] error fields: code=${e.code} statusCode=${e.statusCode} data=${JSON.stringify(e.data)}`);
    }
  }
  step('shutdown');
  const exit = await stopDaemon();
  webhook.close();
  if (exit && (exit.code !== 0 || exit.signal)) {
    console.error(`[e2e_sdk] FAILED: mediaconvertd exited with ${JSON.stringify(exit)} after SIGTERM (sanitizer report in its log)`);
    ok = false;
  }
  if (!ok) {
    try { console.error(`----- ${LOG} -----\n${fs.readFileSync(LOG, 'utf8')}----- end of daemon log -----`); } catch (e) { /* none */ }
    process.exit(1);
  }
  log(`passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  fs.rmSync(DIR, { recursive: true, force: true });
  process.exit(0);
}

process.on('unhandledRejection', (e) => { console.error('[e2e_sdk] unhandled:', e); });
// Never leave a daemon behind: if this process dies early (an exception, a signal from ctest,
// a closed stdout), kill it.
process.on('exit', () => { if (daemon && !daemon.done) daemon.child.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`[e2e_sdk] ${sig}: stopping`);
    process.exit(1);
  });
}
main().catch(async (e) => {
  console.error('[e2e_sdk] FAILED:', e);
  await stopDaemon().catch(() => {});
  process.exit(1);
});
