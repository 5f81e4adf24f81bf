Wrap: cells hold eight bits and wrap around in both directions
Prints ABC and a newline; each letter checks one wrap

A: zero minus one is 255; adding 66 then wraps past 255 to 65 which is the letter A
-
>++++++++[<++++++++>-]<++
.
B: clear; zero minus one is 255 and 255 plus one is zero; adding 66 gives B
[-]-+
>++++++++[<++++++++>-]<++
.
C: clear; from 255 count down to zero into the next cell which then holds 255;
one more wraps it to zero; adding 67 gives C
[-]-[>+<-]>+
>++++++++[<++++++++>-]<+++
.
newline
[-]++++++++++.
