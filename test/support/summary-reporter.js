/**
 * Ends the run with one plain line, "tests: N passed, N failed, N skipped", which CI
 * tooling reads without knowing jest's own summary format. Each lane's config
 * names its lane (reporter option `lane`), printed on the line before, so that
 * `npm test`, which runs two lanes, shows whose counts each line holds.
 */
class SummaryReporter {
  constructor(_globalConfig, options = {}) {
    this.lane = options.lane;
  }

  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const lane = this.lane ? `\n${this.lane}:` : '';
    process.stdout.write(`${lane}\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped\n`);
  }
}

module.exports = SummaryReporter;
