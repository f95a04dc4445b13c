# Benchmark workload: a call-heavy recursion (fib and factorial), the worst case for a tracer:
# every call does almost nothing. Used by scripts/bench.mjs; prints one line so runs are checked.
import sys


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 1)


def main(n=25):
    total = fib(n) + factorial(n) % 1000
    for _ in range(200):
        total += factorial(25) % 7
    print("recursion", n, total)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25)
