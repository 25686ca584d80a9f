'use strict';
// The real server binary as a child process on a free loopback port.

const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');

const HOST = '127.0.0.1';

// A port that was free a moment ago (the server binds it right after).
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const {port} = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({host: HOST, port});
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

class ServerProcess {
  // Starts `binary` with --listen on a free port plus `extraArgs`; its stdout
  // and stderr go to `logPath`.
  static async start(binary, extraArgs, logPath) {
    const port = await freePort();
    const args = [`--listen=${HOST}:${port}`, ...extraArgs];
    const log = fs.openSync(logPath, 'a');
    fs.writeSync(log, `$ ${binary} ${args.join(' ')}\n`);
    const child = childProcess.spawn(binary, args, {stdio: ['ignore', log, log]});
    fs.closeSync(log);
    return new ServerProcess(child, port, logPath);
  }

  constructor(child, port, logPath) {
    this.child = child;
    this.port = port;
    this.address = `${HOST}:${port}`;
    this.logPath = logPath;
    this.exit = null;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = {code, signal};
        resolve(this.exit);
      });
      child.once('error', (error) => {
        this.exit = {code: null, signal: null, error};
        resolve(this.exit);
      });
    });
  }

  describeExit() {
    const {code, signal, error} = this.exit;
    if (error) return `could not be started: ${error.message}`;
    return signal ? `was killed by ${signal}` : `exited with code ${code}`;
  }

  // Resolves once the port accepts connections; rejects when the process
  // exits first or `timeoutMs` passes.
  async waitForPort(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(`the server ${this.describeExit()} before listening` +
                        ` on ${this.address}\n${this.logTail()}`);
      }
      if (await canConnect(this.port)) return;
      await sleep(100);
    }
    throw new Error(`the server did not listen on ${this.address} within ` +
                    `${timeoutMs} ms\n${this.logTail()}`);
  }

  // Sends SIGTERM and resolves with {code, signal} once the process exits;
  // after `timeoutMs` it is killed and the promise rejects.
  async terminate(timeoutMs) {
    if (!this.exit) this.child.kill('SIGTERM');
    const timer = sleep(timeoutMs).then(() => null);
    const exit = await Promise.race([this.exited, timer]);
    if (exit) return exit;
    this.kill();
    throw new Error(`the server did not exit within ${timeoutMs} ms of ` +
                    `SIGTERM\n${this.logTail()}`);
  }

  // Last resort when the test ends early: never leave the server behind.
  kill() {
    if (!this.exit) this.child.kill('SIGKILL');
  }

  logTail(lines = 30) {
    try {
      const text = fs.readFileSync(this.logPath, 'utf8').trimEnd().split('\n');
      return `--- last lines of the server log ${this.logPath} ---\n` +
          text.slice(-lines).join('\n');
    } catch (error) {
      return `(no server log: ${error.message})`;
    }
  }
}

module.exports = {ServerProcess, sleep};
