'use strict';
// Converts between plain JavaScript values and google.protobuf.Struct/Value
// in the form @grpc/proto-loader gives messages built from reflection
// descriptors. It cannot rebuild map fields from descriptors, so
// Struct.fields is a repeated {key, value} entry list here: the same bytes on
// the wire as the map, just another shape in JavaScript.

function toValue(value) {
  if (value === null) return {null_value: 'NULL_VALUE'};
  if (Array.isArray(value)) return {list_value: {values: value.map(toValue)}};
  switch (typeof value) {
    case 'number': return {number_value: value};
    case 'string': return {string_value: value};
    case 'boolean': return {bool_value: value};
    case 'object': return {struct_value: toStruct(value)};
    default: throw new Error(`no google.protobuf.Value for ${typeof value}`);
  }
}

function toStruct(object) {
  return {fields: Object.entries(object).map(([key, value]) => ({key, value: toValue(value)}))};
}

function fromValue(value) {
  switch (value.kind) {
    case 'null_value': return null;
    case 'number_value': return value.number_value;
    case 'string_value': return value.string_value;
    case 'bool_value': return value.bool_value;
    case 'struct_value': return fromStruct(value.struct_value);
    case 'list_value': return value.list_value.values.map(fromValue);
    default: throw new Error(`google.protobuf.Value without a kind: ${JSON.stringify(value)}`);
  }
}

function fromStruct(struct) {
  if (!struct) return null;
  const entries = Array.isArray(struct.fields) ?
      struct.fields.map(({key, value}) => [key, value]) :
      Object.entries(struct.fields || {});
  return Object.fromEntries(entries.map(([key, value]) => [key, fromValue(value)]));
}

module.exports = {toStruct, toValue, fromStruct};
