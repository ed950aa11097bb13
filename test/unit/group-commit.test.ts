import { GroupCommit } from '../../src/database/group-commit';

// Group commit (src/database/group-commit.ts): the items of callers of the same
// moment commit together, at most `inFlight` commits at a time, and each caller learns its batch's fate.

const deferred = () => {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

test('callers of the same moment share one commit; those arriving during it share the next; never two at once', async () => {
  const commits: { items: number[]; done: ReturnType<typeof deferred> }[] = [];
  let running = 0;
  let most = 0;
  const group = new GroupCommit<number>(async (items) => {
    running++;
    most = Math.max(most, running);
    const done = deferred();
    commits.push({ items, done });
    await done.promise.finally(() => running--);
  });
  const first = [group.add([1]), group.add([2, 3])];
  await new Promise((resolve) => setImmediate(resolve));
  expect(commits.map((c) => c.items)).toEqual([[1, 2, 3]]);
  const second = [group.add([4]), group.add([5])];
  await new Promise((resolve) => setImmediate(resolve));
  expect(commits).toHaveLength(1);
  commits[0].done.resolve();
  await Promise.all(first);
  await new Promise((resolve) => setImmediate(resolve));
  expect(commits.map((c) => c.items)).toEqual([[1, 2, 3], [4, 5]]);
  commits[1].done.reject(new Error('disk full'));
  for (const caller of second) await expect(caller).rejects.toThrow('disk full');
  expect(most).toBe(1);
  // After a failure, the next batch commits on its own.
  const third = group.add([6]);
  await new Promise((resolve) => setImmediate(resolve));
  commits[2].done.resolve();
  await third;
  expect(commits[2].items).toEqual([6]);
});

test('with two in flight, a batch arriving during a commit goes at once; a third gathers until one of the two is done', async () => {
  const commits: { items: number[]; done: ReturnType<typeof deferred> }[] = [];
  const group = new GroupCommit<number>(async (items) => {
    const done = deferred();
    commits.push({ items, done });
    await done.promise;
  }, 2);
  const first = group.add([1]);
  await new Promise((resolve) => setImmediate(resolve));
  const second = group.add([2]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(commits.map((c) => c.items)).toEqual([[1], [2]]);
  const third = [group.add([3]), group.add([4])];
  await new Promise((resolve) => setImmediate(resolve));
  expect(commits).toHaveLength(2);
  // The second finishes first: the third goes in its place, while the first is still committing.
  commits[1].done.reject(new Error('disk full'));
  await expect(second).rejects.toThrow('disk full');
  await new Promise((resolve) => setImmediate(resolve));
  expect(commits.map((c) => c.items)).toEqual([[1], [2], [3, 4]]);
  commits[2].done.resolve();
  await Promise.all(third);
  commits[0].done.resolve();
  await first;
});
