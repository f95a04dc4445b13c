# Benchmark workload: object-heavy code (classes, properties, __eq__/__hash__, dict and list work,
# a little exception handling). Used by scripts/bench.mjs; prints one checksum line.
import sys


class Vector:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def scale(self, k):
        return Vector(self.x * k, self.y * k)

    @property
    def norm1(self):
        return abs(self.x) + abs(self.y)

    def __eq__(self, other):
        return isinstance(other, Vector) and self.x == other.x and self.y == other.y

    def __hash__(self):
        return hash((self.x, self.y))


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self._balance = balance
        self.history = []

    @property
    def balance(self):
        return self._balance

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("deposit must be positive")
        self._balance += amount
        self.history.append(("deposit", amount))
        return self._balance

    def withdraw(self, amount):
        if amount > self._balance:
            raise ValueError("insufficient funds")
        self._balance -= amount
        self.history.append(("withdraw", amount))
        return self._balance


class Bank:
    def __init__(self):
        self.accounts = {}

    def open(self, owner):
        acct = self.accounts[owner] = Account(owner)
        return acct

    def transfer(self, a, b, amount):
        try:
            self.accounts[a].withdraw(amount)
        except ValueError:
            return False
        self.accounts[b].deposit(amount)
        return True

    def report(self):
        return sorted(((o, a.balance) for o, a in self.accounts.items()), key=lambda t: -t[1])


def main(rounds=4000):
    bank = Bank()
    names = ["acct%d" % i for i in range(50)]
    for i, n in enumerate(names):
        bank.open(n).deposit(100 + i)
    ok = 0
    for r in range(rounds):
        a = names[(r * 7) % 50]
        b = names[(r * 13 + 1) % 50]
        if bank.transfer(a, b, (r % 37) + 1):
            ok += 1
    seen = {}
    v = Vector(0, 0)
    for i in range(rounds):
        w = Vector(i % 11, -(i % 7)).scale(2)
        v = v + w
        seen[w] = seen.get(w, 0) + w.norm1
    top = bank.report()[:3]
    print("objects", ok, v.x, v.y, len(seen), top)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
