'use strict';
// Decodes the grpc-status-details-bin trailer of a failed call: a
// google.rpc.Status whose details hold google.rpc.ErrorInfo and, for
// INVALID_ARGUMENT, google.rpc.BadRequest (AIP-193). These are the published
// googleapis messages every gRPC client library carries, so they are declared
// here rather than learnt from the server.

const protobuf = require('protobufjs');

const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: {
              fields: {
                type_url: {type: 'string', id: 1},
                value: {type: 'bytes', id: 2},
              },
            },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: {type: 'int32', id: 1},
                message: {type: 'string', id: 2},
                details: {rule: 'repeated', type: 'google.protobuf.Any', id: 3},
              },
            },
            ErrorInfo: {
              fields: {
                reason: {type: 'string', id: 1},
                domain: {type: 'string', id: 2},
                metadata: {keyType: 'string', type: 'string', id: 3},
              },
            },
            BadRequest: {
              fields: {
                field_violations: {rule: 'repeated', type: 'FieldViolation', id: 1},
              },
              nested: {
                FieldViolation: {
                  fields: {
                    field: {type: 'string', id: 1},
                    description: {type: 'string', id: 2},
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});

const Status = root.lookupType('google.rpc.Status');
const DETAIL_TYPES = {
  'google.rpc.ErrorInfo': 'errorInfo',
  'google.rpc.BadRequest': 'badRequest',
};

// Returns {code, message, errorInfo, badRequest} from a grpc-js call error;
// errorInfo/badRequest are undefined when the trailer carries none. Throws
// when the trailer is missing.
function statusDetails(error) {
  const values = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (values.length === 0) {
    throw new Error(`the ${error.code} error "${error.details}" has no ` +
                    'grpc-status-details-bin trailer');
  }
  const status = Status.decode(values[0]);
  const result = {code: status.code, message: status.message};
  for (const any of status.details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    if (DETAIL_TYPES[typeName]) {
      const type = root.lookupType(typeName);
      result[DETAIL_TYPES[typeName]] = type.toObject(
          type.decode(any.value), {defaults: true, arrays: true, objects: true});
    }
  }
  return result;
}

module.exports = {statusDetails};
