'use strict';
// A gRPC client that knows no .proto file: it asks the server's reflection
// service for the descriptors of a service (and, transitively, of every type
// the service uses) and builds @grpc/grpc-js stubs from them, as grpcurl does.

const grpc = require('@grpc/grpc-js');
const {GrpcReflection} = require('grpc-js-reflection-client');

// Field names as in the .proto, int64 as decimal strings, enums by name,
// unset fields present with their defaults.
const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

// Reconnect quickly: the server may still be starting when the first call
// is made, and grpc-js's default backoff grows to two minutes.
const CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

class ReflectionClient {
  // `address` is host:port; `callTimeoutMs` bounds every call.
  constructor(address, callTimeoutMs) {
    this.address = address;
    this.callTimeoutMs = callTimeoutMs;
    this.reflection = new GrpcReflection(
        address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    this.stubs = new Map();
  }

  callOptions() {
    return {deadline: Date.now() + this.callTimeoutMs};
  }

  // Names of the services the server offers.
  listServices() {
    return this.reflection.listServices('*', undefined, this.callOptions());
  }

  // A Service for the fully qualified `serviceName`, from its descriptors.
  async service(serviceName) {
    if (!this.stubs.has(serviceName)) {
      const descriptor = await this.reflection.getDescriptorBySymbol(
          serviceName, undefined, this.callOptions());
      let node = descriptor.getPackageObject(LOADER_OPTIONS);
      for (const part of serviceName.split('.')) {
        node = node && node[part];
      }
      if (typeof node !== 'function') {
        throw new Error(`reflection returned no service ${serviceName}`);
      }
      const stub = new node(
          this.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      this.stubs.set(serviceName, new Service(stub, this.callTimeoutMs));
    }
    return this.stubs.get(serviceName);
  }

  // Whether the descriptors reflection serves with `serviceName` (its file
  // and that file's imports, all a client like grpcurl downloads for a call)
  // define the message `typeName`.
  async servesTypeWith(serviceName, typeName) {
    const descriptor = await this.reflection.getDescriptorBySymbol(
        serviceName, undefined, this.callOptions());
    return descriptor.getProtobufJsRoot().lookup(typeName) !== null;
  }

  close() {
    for (const service of this.stubs.values()) service.stub.close();
    // The reflection library keeps its channel private; close it if it can.
    const channelClient = this.reflection.client;
    if (channelClient && typeof channelClient.close === 'function') {
      channelClient.close();
    }
  }
}

// One service's stub, with promise-returning unary calls.
class Service {
  constructor(stub, callTimeoutMs) {
    this.stub = stub;
    this.callTimeoutMs = callTimeoutMs;
  }

  // Method names as written in the .proto (CreateTask, ...).
  methodNames() {
    return Object.keys(this.stub.constructor.service);
  }

  // Calls the unary `method`; rejects with the grpc-js error (code, details,
  // metadata with the trailers) when the call fails.
  call(method, request) {
    if (typeof this.stub[method] !== 'function') {
      return Promise.reject(new Error(`no method ${method} in the service`));
    }
    return new Promise((resolve, reject) => {
      this.stub[method](
          request, {deadline: Date.now() + this.callTimeoutMs},
          (error, response) => (error ? reject(error) : resolve(response)));
    });
  }
}

module.exports = {ReflectionClient};
