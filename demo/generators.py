# Tracelens demo: a generator. Each time it yields, its call is suspended (the yielded value is
# shown); each resume starts a new segment of the same call in the timeline.


def is_prime(n, known):
    for p in known:
        if n % p == 0:
            return False
    return True


def primes(limit):
    found = []
    n = 2
    while len(found) < limit:
        if is_prime(n, found):
            found.append(n)
            yield n
        n += 1
    return found


def first_primes(count):
    total = 0
    for p in primes(count):
        total += p
    return total


print("sum of the first 5 primes:", first_primes(5))
