# Tracelens demo: a class with methods and a property. Each method call shows its arguments
# (self included) and its return value.
import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    @property
    def area(self):
        return math.pi * self.radius ** 2

    def scale(self, factor):
        return Circle(self.radius * factor)

    def __repr__(self):
        return "Circle(%g)" % self.radius


def largest(shapes):
    best = shapes[0]
    for shape in shapes[1:]:
        if shape.area > best.area:
            best = shape
    return best


circles = [Circle(1), Circle(2).scale(1.5), Circle(0.5)]
print("largest:", largest(circles))
