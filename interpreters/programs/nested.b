Nested: a triangle of stars five rows high made with loops inside a loop
Cells: rows left; width; a copy of the width; newline; star
The outer loop runs once per row; the inner loop writes one star per unit of width

+++++
>>>++++++[>+++++++<-]++++++++++
<<<[
  >+
  [->+>>.<<<]
  >[-<+>]
  >.
  <<<-
]
