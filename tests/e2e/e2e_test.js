'use strict';
// End-to-end test of the real server binary: starts it on a free loopback
// port with a SQLite file, learns tasks.v1.TaskService through server
// reflection alone (no .proto file here) and drives every kind of call a
// client makes, then stops the server with SIGTERM.
//
// Usage: node e2e_test.js --server=PATH --db=PATH --log=PATH [--xml=PATH]
// Exits 0 only when every step passed.

const assert = require('assert');
const grpc = require('@grpc/grpc-js');
const {ReflectionClient} = require('./reflection_client');
const {statusDetails} = require('./rpc_status');
const {ServerProcess, sleep} = require('./server_process');
const {StepRunner} = require('./step_runner');
const {fromStruct, toStruct, toValue} = require('./struct_value');

const TASK_SERVICE = 'tasks.v1.TaskService';
const HEALTH_SERVICE = 'grpc.health.v1.Health';
const REFLECTION_SERVICE = 'grpc.reflection.v1alpha.ServerReflection';
const TASK_METHODS = [
  'CreateProject', 'GetProject', 'ListProjects', 'UpdateProject',
  'DeleteProject', 'CreateTask', 'BatchCreateTasks', 'GetTask', 'ListTasks',
  'UpdateTask', 'DeleteTask', 'WatchTasks',
];
const ERROR_DOMAIN = 'tasks.v1';
// Every kind of JSON value, nested.
const METADATA = {
  owner: 'ana',
  points: 3.5,
  urgent: true,
  reviewer: null,
  links: ['https://example.com/a', 2, false, null, {nested: ['x']}],
  budget: {amount: 1200, currency: 'EUR'},
};

const CALL_TIMEOUT_MS = 5000;
const START_TIMEOUT_MS = 30000;
const SERVING_TIMEOUT_MS = 30000;
// The server's drain deadline plus a margin.
const STOP_TIMEOUT_MS = 30000;
const START_ATTEMPTS = 3;

function parseArgs(argv) {
  const args = {};
  for (const arg of argv) {
    const match = /^--([a-z_]+)=(.*)$/.exec(arg);
    if (!match) throw new Error(`unexpected argument ${arg}`);
    args[match[1]] = match[2];
  }
  for (const required of ['server', 'db', 'log']) {
    if (!args[required]) throw new Error(`missing --${required}=...`);
  }
  return args;
}

// Starts the server, retrying on a new port if it exits before listening
// (another process may have taken the free port in between).
async function startServer(args) {
  let lastError;
  for (let attempt = 1; attempt <= START_ATTEMPTS; ++attempt) {
    const server = await ServerProcess.start(args.server, [`--db=${args.db}`], args.log);
    try {
      await server.waitForPort(START_TIMEOUT_MS);
      return server;
    } catch (error) {
      lastError = error;
      server.kill();
      if (!server.exit) break;  // Hung rather than exited: no point retrying.
    }
  }
  throw lastError;
}

// Polls the overall health status until SERVING.
async function waitUntilServing(health, server) {
  const deadline = Date.now() + SERVING_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (server.exit) {
      throw new Error(`the server ${server.describeExit()}\n${server.logTail()}`);
    }
    try {
      const response = await health.call('Check', {service: ''});
      if (response.status === 'SERVING') return;
      last = response.status;
    } catch (error) {
      last = `${error.code}: ${error.details || error.message}`;
    }
    await sleep(200);
  }
  throw new Error(`health did not become SERVING within ${SERVING_TIMEOUT_MS} ms ` +
                  `(last: ${last})\n${server.logTail()}`);
}

// Asserts that `promise` fails with the status `codeName` and an ErrorInfo
// of `reason`; returns the decoded status details.
async function expectRpcError(promise, codeName, reason) {
  let error;
  try {
    const response = await promise;
    assert.fail(`expected ${codeName}, the call succeeded with ` +
                JSON.stringify(response));
  } catch (caught) {
    if (caught instanceof assert.AssertionError) throw caught;
    error = caught;
  }
  assert.strictEqual(grpc.status[error.code], codeName,
                     `status of "${error.details || error.message}"`);
  const details = statusDetails(error);
  assert.ok(details.errorInfo, `${codeName} carries no google.rpc.ErrorInfo`);
  assert.strictEqual(details.errorInfo.reason, reason, 'ErrorInfo.reason');
  assert.strictEqual(details.errorInfo.domain, ERROR_DOMAIN, 'ErrorInfo.domain');
  assert.strictEqual(details.code, error.code,
                     'google.rpc.Status.code matches the call status');
  return details;
}

function assertRecentTimestamp(timestamp, field) {
  assert.ok(timestamp, `${field} is set`);
  const seconds = Number(timestamp.seconds);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(now - seconds) < 3600,
            `${field} ${seconds} is within an hour of now (${Math.round(now)})`);
}

// `task` with its metadata as a plain object: a Struct is a map, whose
// entries may come in any order.
function plainTask(task) {
  return {...task, metadata: fromStruct(task.metadata)};
}

// Collects every task id of ListTasks(request) page by page.
async function listAllPages(tasks, request) {
  const pages = [];
  let pageToken = '';
  do {
    assert.ok(pages.length < 10, 'pagination ends within 10 pages');
    const response = await tasks.call('ListTasks', {...request, page_token: pageToken});
    pages.push(response.tasks.map((t) => t.id));
    pageToken = response.next_page_token;
  } while (pageToken);
  return pages;
}

async function runSteps(run, args, state) {

  await run.step('server starts and its health check reports SERVING', async () => {
    state.server = await startServer(args);
    state.client = new ReflectionClient(state.server.address, CALL_TIMEOUT_MS);
    const health = await state.client.service(HEALTH_SERVICE);
    await waitUntilServing(health, state.server);
    return `listening on ${state.server.address}, database ${args.db}`;
  });

  await run.step('reflection lists TaskService, Health and reflection itself', async () => {
    const services = await state.client.listServices();
    for (const name of [TASK_SERVICE, HEALTH_SERVICE, REFLECTION_SERVICE]) {
      assert.ok(services.includes(name), `${name} in ${JSON.stringify(services)}`);
    }
    return services.join(', ');
  });

  await run.step('reflection describes every TaskService method', async () => {
    state.tasks = await state.client.service(TASK_SERVICE);
    const methods = state.tasks.methodNames().sort();
    assert.deepStrictEqual(methods, [...TASK_METHODS].sort());
    return `${methods.length} methods`;
  });

  await run.step('reflection serves ErrorInfo and BadRequest with TaskService', async () => {
    // grpcurl decodes an error's details only with these files.
    for (const type of ['google.rpc.ErrorInfo', 'google.rpc.BadRequest']) {
      assert.ok(await state.client.servesTypeWith(TASK_SERVICE, type),
                `${type} with ${TASK_SERVICE}'s files`);
    }
    return 'both among the files of tasks.v1.TaskService';
  });

  await run.step('health is SERVING overall and for tasks.v1.TaskService', async () => {
    const health = await state.client.service(HEALTH_SERVICE);
    const overall = await health.call('Check', {service: ''});
    assert.strictEqual(overall.status, 'SERVING', 'overall status');
    const perService = await health.call('Check', {service: TASK_SERVICE});
    assert.strictEqual(perService.status, 'SERVING', `${TASK_SERVICE} status`);
    return 'both SERVING';
  });

  await run.step('CreateProject returns the project with an id and times', async () => {
    const project = await state.tasks.call('CreateProject', {
      project: {name: 'Launch', description: 'Everything for the launch'},
    });
    assert.ok(Number(project.id) > 0, `id ${project.id} is positive`);
    assert.strictEqual(project.name, 'Launch');
    assert.strictEqual(project.description, 'Everything for the launch');
    assertRecentTimestamp(project.create_time, 'create_time');
    state.project = project;
    return `project ${project.id}`;
  });

  await run.step('GetProject, ListProjects and UpdateProject see the project', async () => {
    const got = await state.tasks.call('GetProject', {id: state.project.id});
    assert.deepStrictEqual(got, state.project, 'GetProject equals CreateProject');
    const list = await state.tasks.call('ListProjects', {page_size: 10});
    assert.deepStrictEqual(list.projects.map((p) => p.id), [state.project.id]);
    const updated = await state.tasks.call('UpdateProject', {
      project: {id: state.project.id, name: 'not written', description: 'Launch v2'},
      update_mask: {paths: ['description']},
    });
    assert.strictEqual(updated.description, 'Launch v2', 'masked description');
    assert.strictEqual(updated.name, 'Launch', 'unmasked name unchanged');
    return 'get, list and a masked update agree';
  });

  await run.step('CreateTask without status or priority gets PENDING and MEDIUM', async () => {
    const task = await state.tasks.call('CreateTask', {
      task: {
        project_id: state.project.id,
        title: 'Write the announcement',
        metadata: toStruct(METADATA),
      },
      request_id: 'e2e-create-announcement',
    });
    assert.ok(Number(task.id) > 0, `id ${task.id} is positive`);
    assert.strictEqual(task.project_id, state.project.id, 'project_id');
    assert.strictEqual(task.title, 'Write the announcement');
    assert.strictEqual(task.status, 'PENDING', 'default status');
    assert.strictEqual(task.priority, 'MEDIUM', 'default priority');
    assert.deepStrictEqual(fromStruct(task.metadata), METADATA, 'metadata round trip');
    assert.ok(task.etag, 'etag is set');
    assertRecentTimestamp(task.create_time, 'create_time');
    state.first = task;
    return `task ${task.id}: PENDING, MEDIUM, metadata round-tripped`;
  });

  await run.step('BatchCreateTasks creates four tasks in request order', async () => {
    const specs = [
      {title: 'Book the venue', priority: 'HIGH'},
      {title: 'Order the banners', priority: 'LOW'},
      {title: 'Invite the press', priority: 'HIGH', status: 'IN_PROGRESS'},
      {title: 'Rehearse the demo'},
    ];
    const response = await state.tasks.call('BatchCreateTasks', {
      requests: specs.map((spec) => ({task: {project_id: state.project.id, ...spec}})),
    });
    assert.deepStrictEqual(response.tasks.map((t) => t.title), specs.map((s) => s.title));
    assert.deepStrictEqual(response.tasks.map((t) => t.priority),
                           ['HIGH', 'LOW', 'HIGH', 'MEDIUM']);
    assert.deepStrictEqual(response.tasks.map((t) => t.status),
                           ['PENDING', 'PENDING', 'IN_PROGRESS', 'PENDING']);
    state.all = [state.first, ...response.tasks];
    return `tasks ${response.tasks.map((t) => t.id).join(', ')}`;
  });

  await run.step('GetTask returns the task as created', async () => {
    const got = await state.tasks.call('GetTask', {id: state.first.id});
    assert.deepStrictEqual(plainTask(got), plainTask(state.first));
    return `task ${got.id}`;
  });

  await run.step('ListTasks filtered by project and priority HIGH returns the HIGH tasks', async () => {
    const response = await state.tasks.call('ListTasks', {
      project_id: state.project.id, priority: 'HIGH',
    });
    const expected = state.all.filter((t) => t.priority === 'HIGH').map((t) => t.id);
    assert.deepStrictEqual(response.tasks.map((t) => t.id), expected);
    assert.strictEqual(response.next_page_token, '', 'a single page');
    return `tasks ${expected.join(', ')}`;
  });

  await run.step('ListTasks filtered by metadata owner = "ana" returns that task', async () => {
    const response = await state.tasks.call('ListTasks', {
      metadata_key: 'owner', metadata_value: toValue('ana'),
    });
    assert.deepStrictEqual(response.tasks.map((t) => t.id), [state.first.id]);
    return `task ${state.first.id}`;
  });

  await run.step('ListTasks with page_size 2 returns each of the 5 tasks once', async () => {
    const pages = await listAllPages(state.tasks, {project_id: state.project.id, page_size: 2});
    assert.deepStrictEqual(pages.map((p) => p.length), [2, 2, 1], 'page sizes');
    assert.deepStrictEqual(pages.flat(), state.all.map((t) => t.id), 'ids in creation order');
    return `pages ${JSON.stringify(pages)}`;
  });

  await run.step('UpdateTask with mask ["status"] changes only status and the etag', async () => {
    const before = state.first;
    const updated = await state.tasks.call('UpdateTask', {
      task: {id: before.id, status: 'COMPLETED', title: 'not written', etag: before.etag},
      update_mask: {paths: ['status']},
    });
    assert.strictEqual(updated.status, 'COMPLETED', 'masked status');
    assert.strictEqual(updated.title, before.title, 'unmasked title unchanged');
    assert.strictEqual(updated.priority, before.priority, 'priority unchanged');
    assert.deepStrictEqual(fromStruct(updated.metadata), METADATA, 'metadata unchanged');
    assert.notStrictEqual(updated.etag, before.etag, 'etag changed');
    const stored = await state.tasks.call('GetTask', {id: before.id});
    assert.deepStrictEqual(plainTask(stored), plainTask(updated), 'GetTask sees the update');
    state.staleEtag = before.etag;
    state.first = updated;
    return `etag ${before.etag} -> ${updated.etag}`;
  });

  await run.step('UpdateTask with a stale etag is ABORTED (ETAG_MISMATCH)', async () => {
    const details = await expectRpcError(state.tasks.call('UpdateTask', {
      task: {id: state.first.id, priority: 'LOW', etag: state.staleEtag},
      update_mask: {paths: ['priority']},
    }), 'ABORTED', 'ETAG_MISMATCH');
    const stored = await state.tasks.call('GetTask', {id: state.first.id});
    assert.strictEqual(stored.priority, state.first.priority, 'priority unchanged');
    return `"${details.message}"`;
  });

  await run.step('CreateTask with a taken title is ALREADY_EXISTS (TASK_TITLE_TAKEN)', async () => {
    const details = await expectRpcError(state.tasks.call('CreateTask', {
      task: {project_id: state.project.id, title: state.first.title},
    }), 'ALREADY_EXISTS', 'TASK_TITLE_TAKEN');
    return `"${details.message}"`;
  });

  await run.step('CreateTask with a blank title is INVALID_ARGUMENT naming task.title', async () => {
    const details = await expectRpcError(state.tasks.call('CreateTask', {
      task: {project_id: state.project.id, title: '   '},
    }), 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    assert.ok(details.badRequest, 'carries google.rpc.BadRequest');
    const fields = details.badRequest.field_violations.map((v) => v.field);
    assert.deepStrictEqual(fields, ['task.title'], 'field violations');
    return `"${details.message}"`;
  });

  await run.step('DeleteTask removes the task: GetTask is NOT_FOUND (TASK_NOT_FOUND)', async () => {
    const victim = state.all[state.all.length - 1];
    await state.tasks.call('DeleteTask', {id: victim.id});
    await expectRpcError(state.tasks.call('GetTask', {id: victim.id}),
                         'NOT_FOUND', 'TASK_NOT_FOUND');
    state.all = state.all.slice(0, -1);
    return `task ${victim.id} deleted`;
  });

  await run.step('DeleteProject without force is FAILED_PRECONDITION (PROJECT_HAS_TASKS)', async () => {
    const details = await expectRpcError(
        state.tasks.call('DeleteProject', {id: state.project.id}),
        'FAILED_PRECONDITION', 'PROJECT_HAS_TASKS');
    const still = await state.tasks.call('GetProject', {id: state.project.id});
    assert.strictEqual(still.id, state.project.id, 'project still there');
    return `"${details.message}"`;
  });

  await run.step('DeleteProject with force deletes the project and its tasks', async () => {
    await state.tasks.call('DeleteProject', {id: state.project.id, force: true});
    await expectRpcError(state.tasks.call('GetProject', {id: state.project.id}),
                         'NOT_FOUND', 'PROJECT_NOT_FOUND');
    for (const task of state.all) {
      await expectRpcError(state.tasks.call('GetTask', {id: task.id}),
                           'NOT_FOUND', 'TASK_NOT_FOUND');
    }
    const left = await state.tasks.call('ListTasks', {project_id: state.project.id});
    assert.deepStrictEqual(left.tasks, [], 'no task of the project is listed');
    return `project ${state.project.id} and ${state.all.length} tasks gone`;
  });

  // Runs whenever a server was started, whatever failed before.
  await run.step('SIGTERM stops the server with exit code 0', async () => {
    if (state.client) state.client.close();
    const exit = await state.server.terminate(STOP_TIMEOUT_MS);
    assert.deepStrictEqual(exit, {code: 0, signal: null},
                           `exit after SIGTERM\n${state.server.logTail()}`);
    return 'exit code 0';
  }, {always: Boolean(state.server)});
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const run = new StepRunner('ServerE2E');
  const state = {};
  try {
    await runSteps(run, args, state);
  } finally {
    if (state.server) state.server.kill();
    if (args.xml) run.writeJUnit(args.xml);
  }
  console.log(run.summary());
  return run.failed ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
