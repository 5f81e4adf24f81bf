Hello world in Brainfuck
Prints the greeting Hello World followed by an exclamation mark and a newline
Cell one counts eight rounds; each round adds to the cells that become the letters

++++++++[>++++[>++>+++>+++>+<<<<-]>+>+>->>+[<]<-]
>>.>---.+++++++..+++.>>.<-.<.+++.------.--------.>>+.>++.
