'use strict';
// Runs the end-to-end checks as named steps, prints one line per step and
// writes them as JUnit XML (one testcase per step) for Bazel's test.xml.

const fs = require('fs');

// Once a step fails, the steps after it build on state that is not there:
// they are reported as skipped (the test still fails), except steps marked
// `always`, such as shutting the server down.
class StepRunner {
  constructor(suiteName) {
    this.suiteName = suiteName;
    this.results = [];
    this.failed = false;
  }

  // Runs `fn` (async, returns a short description of what it checked) as the
  // step `name`, unless an earlier step failed and `always` is not set.
  async step(name, fn, {always = false} = {}) {
    if (this.failed && !always) {
      this.results.push({name, outcome: 'skipped', seconds: 0,
                         detail: 'not run: an earlier step failed'});
      console.log(`[ SKIP ] ${name}`);
      return;
    }
    const start = process.hrtime.bigint();
    let outcome = 'passed';
    let detail;
    try {
      detail = (await fn()) || '';
    } catch (error) {
      outcome = 'failed';
      detail = error && error.stack ? error.stack : String(error);
      this.failed = true;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.results.push({name, outcome, seconds, detail});
    const tag = outcome === 'passed' ? '[  OK  ]' : '[ FAIL ]';
    console.log(`${tag} ${name}${detail ? `: ${detail}` : ''}`);
  }

  count(outcome) {
    return this.results.filter((r) => r.outcome === outcome).length;
  }

  summary() {
    return `${this.count('passed')} passed, ${this.count('failed')} failed` +
        (this.count('skipped') ? `, ${this.count('skipped')} skipped` : '');
  }

  // Writes the results in the JUnit XML dialect GoogleTest also writes.
  writeJUnit(path) {
    const seconds = this.results.reduce((sum, r) => sum + r.seconds, 0);
    const counts = `tests="${this.results.length}" ` +
        `failures="${this.count('failed')}" errors="0" disabled="0" ` +
        `skipped="${this.count('skipped')}" time="${seconds.toFixed(3)}"`;
    const cases = this.results.map((r) => {
      const open = `    <testcase name="${xmlEscape(r.name)}" ` +
          `classname="${xmlEscape(this.suiteName)}" time="${r.seconds.toFixed(3)}"`;
      if (r.outcome === 'passed') return `${open} />`;
      const child = r.outcome === 'failed' ? 'failure' : 'skipped';
      const firstLine = r.detail.split('\n')[0];
      return `${open}>\n      <${child} message="${xmlEscape(firstLine)}">` +
          `${xmlEscape(r.detail)}</${child}>\n    </testcase>`;
    });
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="${xmlEscape(this.suiteName)}" ${counts}>`,
      `  <testsuite name="${xmlEscape(this.suiteName)}" ${counts}>`,
      ...cases,
      '  </testsuite>',
      '</testsuites>',
      '',
    ].join('\n');
    fs.writeFileSync(path, xml);
  }
}

function xmlEscape(text) {
  return String(text)
      // Characters XML 1.0 cannot carry at all.
      .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '?')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;');
}

module.exports = {StepRunner};
