Left: prints hi and a newline then moves the pointer off the left end of the tape
The output before the error is kept; the run ends with the error
pointer moved left of the tape

++++++++[>+++++++++++++<-]>.
+.
[-]++++++++++.
<<
