# Tracelens demo: recursion. Run "Tracelens: Trace This File" and look at the return values
# beside each `return` line, and at the call tree in the Tracelens timeline panel.


def factorial(n):
    if n <= 1:
        return 1
    return n * factorial(n - 1)


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def hanoi(n, source, target, spare, moves):
    if n == 0:
        return moves
    hanoi(n - 1, source, spare, target, moves)
    moves.append((source, target))
    return hanoi(n - 1, spare, target, source, moves)


print("5! =", factorial(5))
print("fib(6) =", fib(6))
print("hanoi(3) takes", len(hanoi(3, "A", "C", "B", [])), "moves")
