# Tracelens demo: exceptions. A caught exception (shown at the line that raised it, the call
# returns normally) and an uncaught one at the end (the program exits with code 1).


class InsufficientFunds(Exception):
    pass


def parse_amount(text):
    return int(text)


def read_amounts(texts):
    amounts = []
    for text in texts:
        try:
            amounts.append(parse_amount(text))
        except ValueError:
            print("skipping", repr(text))
    return amounts


def withdraw(balance, amount):
    if amount > balance:
        raise InsufficientFunds("need %d more" % (amount - balance))
    return balance - amount


amounts = read_amounts(["40", "ten", "25"])
balance = 50
for amount in amounts:
    balance = withdraw(balance, amount)
    print("balance", balance)
