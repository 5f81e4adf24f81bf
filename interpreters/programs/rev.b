Reverse: reads all of standard input and writes it back to front
Each byte goes into a fresh cell; a read at the end of input leaves that fresh cell zero
which ends the reading loop; then the cells are written from the last one back to the first
A zero byte in the input ends the input; more than 29999 bytes run off the tape

>,[>,]<[.<]
