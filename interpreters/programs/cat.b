Cat: copies standard input to standard output byte for byte
Reads a byte; while it is not zero: writes it then clears the cell and reads the next
Clearing before reading makes the loop end at the end of input whatever the interpreter
does there: this interpreter leaves the cell unchanged so the cleared cell stays zero
A zero byte in the input ends the copy too

,[.[-],]
