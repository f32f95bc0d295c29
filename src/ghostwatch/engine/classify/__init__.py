"""What an inbound message is: human, out of office (with a return date), auto-ack or bounce
(with its failed recipients), and the evidence. `verdict.classify` weighs the signals;
`bounce` reads delivery reports, `phrases` the words of automatic replies, `returndate` and
`datewords` the dates people write."""
