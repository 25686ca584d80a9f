#!/usr/bin/python3
"""An example client of tasks.v1.TaskService with Debian's python3-grpcio.

It creates a project and tasks, lists them with a filter and page by page,
updates a task by field mask with its etag, and reads the error details
(google.rpc.ErrorInfo, BadRequest) of failed calls.

Stubs come from proto/ (see README.md, "Client examples"):
  protoc -Iproto -I/usr/include --python_out=gen --grpc_python_out=gen \\
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \\
    proto/tasks/v1/tasks.proto proto/google/rpc/*.proto
  PYTHONPATH=gen /usr/bin/python3 examples/python/tasks_client.py localhost:50051
"""

import sys

import grpc
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from google.rpc import status_pb2
from tasks.v1 import tasks_pb2
from tasks.v1 import tasks_pb2_grpc

Task = tasks_pb2.Task


def error_details(error):
    """The ErrorInfo reason and BadRequest fields of a failed call."""
    reason, fields = None, []
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in status_pb2.Status.FromString(value).details:
            info = error_details_pb2.ErrorInfo()
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(info):
                reason = info.reason
            elif detail.Unpack(bad_request):
                fields += [v.field for v in bad_request.field_violations]
    return reason, fields


def show_error(what, error):
    reason, fields = error_details(error)
    print(f"{what}: {error.code().name} reason={reason} fields={','.join(fields)}"
          f" message: {error.details()}")


def main(address):
    with grpc.insecure_channel(address) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        tasks = tasks_pb2_grpc.TaskServiceStub(channel)

        project = tasks.CreateProject(tasks_pb2.CreateProjectRequest(
            project=tasks_pb2.Project(name="Launch")))
        print(f"created project {project.id}")

        for title, priority in [("Book the venue", Task.HIGH),
                                ("Order the banners", Task.LOW),
                                ("Invite the press", Task.HIGH)]:
            task = Task(project_id=project.id, title=title, priority=priority)
            task.metadata.update({"owner": "ana"})
            task = tasks.CreateTask(tasks_pb2.CreateTaskRequest(task=task))
            print(f"created task {task.id} {task.title!r}")

        # A filter, two tasks a page: follow next_page_token until it is empty.
        request = tasks_pb2.ListTasksRequest(project_id=project.id,
                                             priority=Task.HIGH, page_size=2)
        page = tasks.ListTasks(request)
        print("HIGH tasks:", ", ".join(t.title for t in page.tasks))
        request = tasks_pb2.ListTasksRequest(project_id=project.id, page_size=2)
        pages = 0
        while True:
            page = tasks.ListTasks(request)
            pages += 1
            print(f"page {pages}:", ", ".join(t.title for t in page.tasks))
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token

        # Update by mask with the etag just read; a second update with the
        # same (now stale) etag is ABORTED.
        current = tasks.GetTask(tasks_pb2.GetTaskRequest(id=task.id))
        change = Task(id=current.id, status=Task.IN_PROGRESS, etag=current.etag)
        mask = field_mask_pb2.FieldMask(paths=["status"])
        updated = tasks.UpdateTask(
            tasks_pb2.UpdateTaskRequest(task=change, update_mask=mask))
        print(f"updated task {updated.id}: status "
              f"{Task.Status.Name(updated.status)}, etag {updated.etag}")
        try:
            tasks.UpdateTask(tasks_pb2.UpdateTaskRequest(task=change, update_mask=mask))
        except grpc.RpcError as error:
            show_error("stale etag", error)

        try:
            tasks.CreateTask(tasks_pb2.CreateTaskRequest(
                task=Task(project_id=project.id, title=" ")))
        except grpc.RpcError as error:
            show_error("blank title", error)

        try:
            tasks.GetTask(tasks_pb2.GetTaskRequest(id=999999))
        except grpc.RpcError as error:
            show_error("missing task", error)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "localhost:50051")
