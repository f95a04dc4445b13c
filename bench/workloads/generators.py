# Benchmark workload: generators (pipelines, yield from) and asyncio (tasks, gather, queues).
# Used by scripts/bench.mjs; prints one checksum line.
import asyncio
import sys


def numbers(n):
    for i in range(n):
        yield i


def squares(it):
    for x in it:
        yield x * x


def evens(it):
    yield from (x for x in it if x % 2 == 0)


def chunks(it, size):
    chunk = []
    for x in it:
        chunk.append(x)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def produce(queue, n):
    for i in range(n):
        await queue.put(i)
        if i % 50 == 0:
            await asyncio.sleep(0)
    await queue.put(None)


async def consume(queue):
    total = 0
    while True:
        item = await queue.get()
        if item is None:
            return total
        total += await work(item)


async def work(x):
    await asyncio.sleep(0) if x % 100 == 0 else None
    return x % 13


async def amain(n):
    results = []
    for _ in range(4):
        q = asyncio.Queue(maxsize=64)
        _, total = await asyncio.gather(produce(q, n), consume(q))
        results.append(total)
    return sum(results)


def main(n=20000):
    s = sum(sum(c) for c in chunks(evens(squares(numbers(n))), 16))
    t = asyncio.run(amain(n // 4))
    print("generators", s, t)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
