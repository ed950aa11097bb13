// Preloaded (node --expose-gc -r) into the CareThread process the bench starts, never part of the server:
// on SIGUSR2 it collects garbage and prints the process's memory as one JSON line on stdout.
process.on('SIGUSR2', () => {
  global.gc();
  global.gc();
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(JSON.stringify({ benchMemory: { rss, heapUsed } }) + '\n');
});
