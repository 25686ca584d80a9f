'use strict';
// An example client of tasks.v1.TaskService with @grpc/grpc-js, the API
// loaded from proto/ at run time by @grpc/proto-loader.
//
// It creates a project and tasks, lists them with a filter and page by page,
// updates a task by field mask with its etag, and reads the error details
// (google.rpc.ErrorInfo, BadRequest) of failed calls.
//
//   tools/install_node_modules.sh      # once: examples/node/node_modules
//   node examples/node/tasks_client.js localhost:50051

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_ROOT = path.join(__dirname, '..', '..', 'proto');

// Field names as in the .proto, int64 as decimal strings, enums by name.
const LOADER_OPTIONS = {keepCase: true, longs: String, enums: String, defaults: true};

function loadTaskService(address) {
  const definition = protoLoader.loadSync('tasks/v1/tasks.proto',
                                          {...LOADER_OPTIONS, includeDirs: [PROTO_ROOT]});
  const {TaskService} = grpc.loadPackageDefinition(definition).tasks.v1;
  return new TaskService(address, grpc.credentials.createInsecure());
}

// google.rpc.Status and its details, to decode grpc-status-details-bin.
const rpcTypes = new protobuf.Root();
rpcTypes.resolvePath = (origin, target) => path.join(PROTO_ROOT, target);
rpcTypes.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'],
                  {keepCase: true});
const Status = rpcTypes.lookupType('google.rpc.Status');
const DETAIL_TYPES = {
  'type.googleapis.com/google.rpc.ErrorInfo': rpcTypes.lookupType('google.rpc.ErrorInfo'),
  'type.googleapis.com/google.rpc.BadRequest': rpcTypes.lookupType('google.rpc.BadRequest'),
};

// The ErrorInfo reason and BadRequest fields of a failed call.
function errorDetails(error) {
  let reason = null;
  const fields = [];
  for (const bytes of error.metadata.get('grpc-status-details-bin')) {
    for (const detail of Status.decode(bytes).details) {
      const type = DETAIL_TYPES[detail.type_url];
      if (!type) continue;
      const message = type.decode(detail.value);
      if (message.reason !== undefined) reason = message.reason;
      for (const violation of message.field_violations || []) fields.push(violation.field);
    }
  }
  return {reason, fields};
}

// A unary call as a promise.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10000;
    client[method](request, {deadline}, (error, response) =>
      error ? reject(error) : resolve(response));
  });
}

async function showError(what, promise) {
  try {
    await promise;
    console.log(`${what}: unexpectedly succeeded`);
  } catch (error) {
    const {reason, fields} = errorDetails(error);
    console.log(`${what}: ${grpc.status[error.code]} reason=${reason} ` +
                `fields=${fields.join(',')} message: ${error.details}`);
  }
}

async function main(address) {
  const tasks = loadTaskService(address);
  await new Promise((resolve, reject) =>
    tasks.waitForReady(Date.now() + 30000, (error) => error ? reject(error) : resolve()));

  const project = await call(tasks, 'CreateProject', {project: {name: 'Launch'}});
  console.log(`created project ${project.id}`);

  let task;
  for (const [title, priority] of [['Book the venue', 'HIGH'], ['Order the banners', 'LOW'],
                                   ['Invite the press', 'HIGH']]) {
    // A Struct's values are objects naming their kind, even with keepCase.
    const metadata = {fields: {owner: {stringValue: 'ana'}}};
    task = await call(tasks, 'CreateTask',
                      {task: {project_id: project.id, title, priority, metadata}});
    console.log(`created task ${task.id} '${task.title}'`);
  }

  // A filter, two tasks a page: follow next_page_token until it is empty.
  const high = await call(tasks, 'ListTasks',
                          {project_id: project.id, priority: 'HIGH', page_size: 2});
  console.log(`HIGH tasks: ${high.tasks.map((t) => t.title).join(', ')}`);
  const request = {project_id: project.id, page_size: 2};
  for (let pages = 1; ; pages++) {
    const page = await call(tasks, 'ListTasks', request);
    console.log(`page ${pages}: ${page.tasks.map((t) => t.title).join(', ')}`);
    if (!page.next_page_token) break;
    request.page_token = page.next_page_token;
  }

  // Update by mask with the etag just read; a second update with the same
  // (now stale) etag is ABORTED.
  const current = await call(tasks, 'GetTask', {id: task.id});
  const update = {
    task: {id: current.id, status: 'IN_PROGRESS', etag: current.etag},
    update_mask: {paths: ['status']},
  };
  const updated = await call(tasks, 'UpdateTask', update);
  console.log(`updated task ${updated.id}: status ${updated.status}, etag ${updated.etag}`);
  await showError('stale etag', call(tasks, 'UpdateTask', update));

  await showError('blank title',
                  call(tasks, 'CreateTask', {task: {project_id: project.id, title: ' '}}));
  await showError('missing task', call(tasks, 'GetTask', {id: 999999}));
  tasks.close();
}

main(process.argv[2] || 'localhost:50051').catch((error) => {
  console.error(error);
  process.exit(1);
});
