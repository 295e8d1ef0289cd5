"""Generated from protos/ by protos/generate.py: never edit by hand.

Each API file's comments: its FileDescriptorProto's source_code_info (the locations
with comments), serialized. The _pb2 modules leave them out; reflection serves them
with the descriptors (services/runtime/_reflection.py)."""

SOURCE_CODE_INFO: dict[str, bytes] = {
    'abc/v1/events.proto': (
        b'\n\xd6\x06\n\x01\x0c\x12\x03\x0c\x00\x12\x1a\xcb\x06 Events Abc publishes on NATS.\n\n Subject: abc.camp'
        b'aign.<campaign_id>.fill, one FillEvent per finished slot (payloa'
        b'd: the\n serialized FillEvent). Publishing is best effort and dup'
        b'licates are normal (the purchase\n service and recovery may both '
        b'publish the same slot): consumers keep the highest slot seen\n pe'
        b'r campaign and drop anything not above it; a gap (slot > seen + '
        b'1) means events were lost\n and the campaign should be read again'
        b'. W3C trace context travels in the NATS headers.\n\n Subject: abc.'
        b'campaign.<campaign_id>.head, a HeadEvent when a recovery replica'
        b"'s periodic\n check finds a campaign's head moved since that repl"
        b'ica last looked. It is how consumers\n learn of fills whose FillE'
        b'vent never went out (the finishing process died just before\n pub'
        b'lishing, or lost NATS): a head above the highest slot seen means'
        b' a read of the campaign.\n\nY\n\x04\x04\x00\x02\x00\x12\x03\x1a\x02\x16\x1aL The slot that was finis'
        b"hed; the campaign's head is now at least slot.slot.\n\n\xa1\x01\n\x04\x04\x00\x02\x01\x12\x03\x1d"
        b'\x02\x17\x1a\x93\x01 Which service published it: "purchase" (the buyer\'s own fi'
        b'nish, or one it helped with\n or settled at a login) or "recovery'
        b'" (the posse\'s repair).\n\nF\n\x04\x04\x00\x02\x02\x12\x03\x1f\x02\x1c\x1a9 When it was published (m'
        b's since epoch), to measure lag.\n\n0\n\x04\x04\x01\x02\x00\x12\x03$\x02\x19\x1a# The campaign who'
        b'se head was read.\n\nC\n\x04\x04\x01\x02\x01\x12\x03&\x02\x11\x1a6 Its head when read: every slot'
        b' up to it is finished.\n\nQ\n\x04\x04\x01\x02\x02\x12\x03(\x02\x17\x1aD When the head was read (m'
        b"s since epoch), by the publisher's clock.\n"
    ),
    'abc/v1/notify.proto': (
        b'\n\xb2\x06\n\x01\x0c\x12\x03\x0c\x00\x12\x1a\xa7\x06 The notify service: every purchase pushed to gate'
        b'ways as it happens.\n\n Fills arrive from NATS (subject abc.campai'
        b'gn.<id>.fill); while NATS is unreachable, or\n when events went m'
        b'issing, notify reads the store instead (at most one read per cam'
        b'paign\n per 100 ms, however many watchers). Either way a watcher '
        b'sees every finished slot of each\n campaign it watches, in slot o'
        b'rder, once.\n\n Errors: INVALID_ARGUMENT (no campaigns, more than '
        b'100, or a bad id), NOT_FOUND (an unknown\n campaign), UNAVAILABLE'
        b" (the store can't be read for the first snapshot),\n RESOURCE_EXH"
        b'AUSTED (this watcher fell too far behind twice in a row: reconne'
        b'ct with the\n slot numbers you have). Each carries a google.rpc.E'
        b'rrorInfo with a stable reason\n (INVALID_FIELD, CAMPAIGN_NOT_FOUN'
        b'D, STORE_UNAVAILABLE, FELL_BEHIND; see types.proto).\n\n\xfc\x03\n\x02\x06\x00\x12\x04\x1e\x00'
        b'$\x01\x1a\xef\x03 Keepalive, for gateways: set keepalive_time to 10 s or mor'
        b'e (pings every 2 s or slower are\n always accepted, with or witho'
        b'ut calls in flight) and keepalive_timeout to 20 s. Of pings\n mor'
        b'e often than once a second while the server sends nothing, five '
        b'are let pass and the\n sixth gets GOAWAY too_many_pings. The serv'
        b'er pings a client it has not heard from in 60 s,\n and drops the '
        b'connection when the ack takes more than 20 s.\n A Watch on a quie'
        b't campaign stays open however long nothing is sold.\n\nR\n\x04\x06\x00\x02\x00\x12\x03 \x02'
        b'7\x1aE First one snapshot per campaign, then one update per finishe'
        b'd slot.\n\n\xa3\x01\n\x04\x06\x00\x02\x01\x12\x03#\x02=\x1a\x95\x01 Like PurchaseService.GetCampaign, serv'
        b"ed from notify's state when it is at most 100 ms\n old (so a hot "
        b"campaign costs the store nothing per viewer).\n\n\x98\x02\n\x04\x04\x01\x02\x01\x12\x03/\x02'\x1a\x8a\x02 "
        b'When reconnecting: the last slot this gateway has seen (0 if it '
        b'saw none). The slots after\n it, up to the current head, are sent'
        b' as fills right after the snapshot (source "replay"),\n so nothin'
        b'g is missed. Unset for a new watcher: just the snapshot, then ne'
        b'w fills.\n\n\x80\x01\n\x04\x04\x02\x02\x00\x12\x036\x04"\x1as The campaign as it is now. Sent first,'
        b' and again (instead of the fills it missed) to a\n watcher that f'
        b'ell behind.\n\n\x84\x01\n\x04\x04\x02\x02\x01\x12\x039\x04\x18\x1aw A finished slot, in order: after re'
        b"sume_after_slot when resuming, else after the\n snapshot's head; "
        b'then + 1, + 2, ...\n\n\x8c\x01\n\x04\x04\x02\x02\x02\x12\x03=\x02\x17\x1a\x7f When notify learned of this '
        b"update (ms since epoch); a gateway's lag for a fill is\n its rece"
        b'ive time minus fill.bought_at_ms.\n\nX\n\x04\x04\x02\x02\x03\x12\x03?\x02\x14\x1aK How notify lea'
        b'rned of it: "event" (NATS), "poll" (the store), "snapshot".\n\nN\n\x04'
        b'\x04\x03\x02\x01\x12\x03E\x02\x11\x1aA The highest finished slot; fills that follow start a'
        b't head + 1.\n\ni\n\x04\x04\x03\x02\x02\x12\x03G\x02\x17\x1a\\ Draw the falling price from this (se'
        b'e PriceCurve); current_price is its value at as_of_ms.\n\n4\n\x04\x04\x03\x02\x05\x12'
        b"\x03K\x02\x1e\x1a' The slot showing at as_of_ms, if any.\n"
    ),
    'abc/v1/purchase.proto': (
        b'\n\x89\x19\n\x01\x0c\x12\x03,\x00\x12\x1a\xfe\x18 The purchase service: accounts, campaigns, filler'
        b's, buying slots, and money out.\n\n Money out: a user requests a w'
        b"ithdrawal (its amount and the operator's flat fee leave the\n bal"
        b'ance at once); a payer (a recovery replica, for an automatic rai'
        b'l) or the operator (for\n the manual rail) pays it out, and the o'
        b'perator may retry a failed payout or reject one,\n which refunds '
        b"it. A withdrawal's state only moves forward:\n   REQUESTED -> PAY"
        b'ING -> PAID;  PAYING -> FAILED -> REQUESTED (a retry: the next t'
        b'ry);\n   REQUESTED | FAILED -> REJECTED -> REFUNDED.\n\n Authentica'
        b'tion: send "authorization: Bearer <token>" in the call metadata.'
        b" A gateway token\n may call everything except the operator's meth"
        b'ods - Deposit, ListPayouts, MarkPaid, Reject,\n Retry and GetLedg'
        b'er - which take an operator token (a gateway can never mint mone'
        b'y or move\n a payout). Missing or wrong token: UNAUTHENTICATED; a'
        b" gateway calling an operator's method:\n PERMISSION_DENIED. Nothi"
        b'ng is written in either case. A server bound to loopback with no'
        b'\n tokens configured runs open (development only) and says so in '
        b'its log.\n\n Errors, for every method:\n   INVALID_ARGUMENT     bad'
        b' input (an id outside [A-Za-z0-9_-]{1,64}, an amount out of rang'
        b'e,\n                        text too long or with control charact'
        b'ers, a page_token this method\n                        did not ha'
        b'nd out, a negative page_size); the message names the\n           '
        b'             field; nothing was written.\n   NOT_FOUND           '
        b' an unknown user, campaign, filler or withdrawal (the message sa'
        b'ys\n                        which).\n   ALREADY_EXISTS       creat'
        b'ing an id that exists; a withdrawal_id reused with another\n     '
        b'                   amount or destination.\n   FAILED_PRECONDITION'
        b'  insufficient funds, or the account is busy with another operat'
        b'ion\n                        (retry shortly). Details: a BuyRejec'
        b'tion (Buy, Deposit), a\n                        WithdrawalRejecti'
        b'on (money out). Money out also: a withdrawal not in a\n          '
        b'              state the move needs (the message names its state '
        b'and the states\n                        wanted; details: a Withdr'
        b'awalRejection).\n   ABORTED              Buy only: lost the race '
        b'for the slot, or the price is above\n                        max_'
        b'price. Details: a BuyRejection with the current price.\n   UNAVAI'
        b'LABLE          the store could not be reached or failed mid-oper'
        b'ation. Safe to\n                        retry: a committed operat'
        b'ion is finished by recovery, an uncommitted\n                    '
        b'    one rolled back (Login tells which); a withdrawal retried wi'
        b'th the same\n                        withdrawal_id and fields is '
        b'applied at most once.\n\n Lists are paged: page_size 0 means 50, m'
        b"ore than 500 means 500; each response's\n next_page_token (empty "
        b'on the last page) is passed back as page_token, unchanged, with '
        b'the\n same other fields. Tokens are opaque, and walking them visi'
        b'ts every item once.\n Details travel as google.rpc.Status in the '
        b'"grpc-status-details-bin" trailer (the rich\n error model; e.g. g'
        b"rpcio-status's rpc_status.from_call in Python): every refusal ca"
        b'rries a\n google.rpc.ErrorInfo with a stable reason (listed in ty'
        b'pes.proto), bad input also a\n google.rpc.BadRequest naming the p'
        b'roto field.\n\n\xb7\x03\n\x02\x06\x00\x12\x05=\x00\x9b\x01\x01\x1a\xa9\x03 Keepalive, for gateways: set keepa'
        b'live_time to 10 s or more (pings every 2 s or slower are\n always'
        b' accepted, with or without calls in flight) and keepalive_timeou'
        b't to 20 s. Of pings\n more often than once a second while the ser'
        b'ver sends nothing, five are let pass and the\n sixth gets GOAWAY '
        b'too_many_pings. The server pings a client it has not heard from '
        b'in 60 s,\n and drops the connection when the ack takes more than '
        b'20 s.\n\nQ\n\x04\x06\x00\x02\x00\x12\x03?\x02<\x1aD Open an account with balance 0. ALREADY_EX'
        b'ISTS if the id is taken.\n\nx\n\x04\x06\x00\x02\x01\x12\x03B\x028\x1ak Credit an account; idem'
        b'potent by deposit_id (a replay changes nothing and says so).\n Op'
        b"erator token only.\n\na\n\x04\x06\x00\x02\x02\x12\x03D\x026\x1aT An account's balance and whet"
        b'her an operation holds it. Does not resolve the lock.\n\n\xbb\x01\n\x04\x06\x00\x02\x03\x12'
        b'\x03G\x022\x1a\xad\x01 Log a user in: settles whatever interrupted operation ho'
        b'lds the account (may take up to\n about 2 s while an operation st'
        b'ill in flight elsewhere gets the chance to finish).\n\n\x84\x04\n\x04\x06\x00\x02\x04\x12\x03N'
        b"\x02G\x1a\xf6\x03 Check a person's password (for a gateway's log-in form): t"
        b'he account on success. A wrong\n password, an unknown user and a '
        b'user without a password are all UNAUTHENTICATED with\n reason BAD'
        b'_CREDENTIALS, alike. After 5 failures in a row for one account, '
        b'each further\n attempt must wait (1 s, doubling per failure, at m'
        b'ost 300 s) from the last failure: one\n made sooner is UNAUTHENTI'
        b'CATED with reason AUTH_THROTTLED and a google.rpc.RetryInfo,\n an'
        b'd the password is not checked. A success clears the count.\n\n\x9f\x01\n\x04'
        b'\x06\x00\x02\x05\x12\x03Q\x02M\x1a\x91\x01 Change a password: old_password must be the current'
        b' one (as Authenticate checks it,\n failures counted alike); new_p'
        b"assword 8 to 256 characters.\n\n\x8b\x01\n\x04\x06\x00\x02\x06\x12\x03T\x02K\x1a~ Set a user's passw"
        b'ord without the old one (a new one for an account made without, '
        b'or a\n forgotten one). Operator token only.\n\n9\n\x04\x06\x00\x02\x07\x12\x03V\x02?\x1a, Open '
        b'a campaign owned by an existing user.\n\n`\n\x04\x06\x00\x02\x08\x12\x03X\x02=\x1aS A campaign'
        b"'s head, last purchase, current price and current slot with its "
        b'filler.\n\nc\n\x04\x06\x00\x02\t\x12\x03Z\x029\x1aV Upload an ad. Fillers are immutable: ALR'
        b'EADY_EXISTS for an id the user already used.\n\nE\n\x04\x06\x00\x02\n\x12\x03\\\x02,\x1a8 Buy'
        b' the next slot of a campaign for at most max_price.\n\n_\n\x04\x06\x00\x02\x0b\x12\x03^\x02'
        b"<\x1aR What a publisher's page shows now: the filler of the slot wh"
        b'ose time covers now.\n\n\x91\x02\n\x04\x06\x00\x02\x0c\x12\x03e\x02J\x1a\x83\x02 Lists for a gateway, each'
        b" read from list documents and one page's documents (never a\n sca"
        b'n of the store).\n\n Campaigns in campaign_id order, each with its'
        b" head and current price: every campaign, or\n one owner's (owner_"
        b'id set; NOT_FOUND for an unknown owner).\n\n\xf4\x01\n\x04\x06\x00\x02\r\x12\x03i\x02>\x1a\xe6\x01 A cam'
        b"paign's finished slots, newest first (from its head down to slot"
        b' 1): the buyer,\n price, times and filler of each, or that it is '
        b"a void. NOT_FOUND for an unknown campaign.\n A user's purchases a"
        b"cross campaigns: ListPurchases.\n\n\x84\x02\n\x04\x06\x00\x02\x0e\x12\x03m\x02D\x1a\xf6\x01 A user's fille"
        b'rs in filler_id order, without their images (GetFiller has the i'
        b'mage).\n Only fillers uploaded since the per-user list exists are'
        b' listed: older ones are not,\n though GetFiller and Buy still fin'
        b'd them. NOT_FOUND for an unknown user.\n\nT\n\x04\x06\x00\x02\x0f\x12\x03o\x023\x1aG One fille'
        b"r of a user's, with its image. NOT_FOUND for an unknown one.\n\n\xc9\x02"
        b"\n\x04\x06\x00\x02\x10\x12\x03t\x02J\x1a\xbb\x02 A user's purchases, newest first (by bought_at_ms"
        b'), paginated. A purchase is listed once\n the posse credits its s'
        b'ale to the seller, typically within a few seconds of the fill;\n '
        b"the buyer's balance has it at once. Purchases credited before th"
        b'e per-user lists existed\n are not listed. NOT_FOUND for an unkno'
        b'wn user.\n\n\x96\x04\n\x04\x06\x00\x02\x11\x12\x03|\x02V\x1a\x88\x04 Take amount out of an account to dest'
        b"ination: amount plus the operator's flat fee leave\n the balance "
        b"now (the shares of the user's campaigns' sales are credited firs"
        b't if the\n balance alone is short), and the payout follows. Idemp'
        b'otent by withdrawal_id: repeating a\n request with the same amoun'
        b't and destination returns the withdrawal (replay set, nothing\n c'
        b'hanged); another amount or destination is ALREADY_EXISTS. FAILED'
        b'_PRECONDITION when the\n balance is below amount + fee (details: '
        b'a WithdrawalRejection with both).\n\n_\n\x04\x06\x00\x02\x12\x12\x03~\x02?\x1aR One withdrawal'
        b" of a user's, with its payout state. NOT_FOUND for an unknown on"
        b"e.\n\nR\n\x04\x06\x00\x02\x13\x12\x04\x80\x01\x02P\x1aD A user's withdrawals, newest first. NOT_FOUN"
        b"D for an unknown user.\n\n\xcf\x02\n\x04\x06\x00\x02\x14\x12\x04\x85\x01\x02<\x1a\xc0\x02 A user's statement, ne"
        b'west first: deposits, purchases, credited shares of their\n campa'
        b"igns' sales, withdrawals and refunds, with the balance now. A pu"
        b'rchase is in it once\n its sale is credited to the seller (as for'
        b' ListPurchases; the balance has it at once), so\n for a moment th'
        b'e entries may not add up to the balance.\n\nw\n\x04\x06\x00\x02\x15\x12\x04\x89\x01\x02D\x1ai Operat'
        b'or token only: every withdrawal, oldest request first (the payou'
        b't queue), or those\n in one state.\n\n\xac\x02\n\x04\x06\x00\x02\x16\x12\x04\x8e\x01\x025\x1a\x9d\x02 Operator to'
        b'ken only: record that the operator paid a withdrawal by hand (th'
        b'e manual\n rail). A REQUESTED one is claimed by "operator" and ma'
        b'rked PAID, a PAYING one marked PAID.\n Repeating it with the same'
        b' reference returns the paid withdrawal; FAILED_PRECONDITION in\n '
        b'any other state.\n\n\x98\x02\n\x04\x06\x00\x02\x17\x12\x04\x92\x01\x021\x1a\x89\x02 Operator token only: refuse '
        b'a REQUESTED or FAILED withdrawal and refund its amount and fee\n '
        b'to the balance; it ends REFUNDED. A PAYING one (the rail may be '
        b'paying it) or a PAID one:\n FAILED_PRECONDITION. Repeating it (sa'
        b'me reason) returns the refunded withdrawal.\n\n\xf5\x01\n\x04\x06\x00\x02\x18\x12\x04\x96\x01\x02/\x1a\xe6\x01 O'
        b'perator token only: try a FAILED payout again. It goes back to R'
        b'EQUESTED as the next try\n (tries + 1, which a rail sees under a '
        b'new idempotency key). A REQUESTED one is returned\n unchanged; an'
        b'y other state: FAILED_PRECONDITION.\n\n\xc9\x01\n\x04\x06\x00\x02\x19\x12\x04\x9a\x01\x023\x1a\xba\x01 Operator '
        b"token only: the operator's books over the whole store, where eve"
        b'ry deposited\n unit is now and whether that balances. Reads every'
        b' document: for a quiet moment, not a\n hot path.\n\n\xf9\x01\n\x04\x04\x00\x02\x01\x12\x04\xa2\x01\x02\x16\x1a'
        b"\xea\x01 Optional: the account's password (8 to 256 characters), store"
        b'd as an argon2id hash in\n its own document (credential:<user_id>'
        b'), never returned by any RPC. Without it the\n account has none u'
        b'ntil the operator sets one (ResetPassword).\n\n\x1c\n\x04\x04\x01\x02\x01\x12\x04\xa8\x01\x02\x14\x1a\x0e Min'
        b'or units.\n\nT\n\x04\x04\x01\x02\x02\x12\x04\xaa\x01\x02\x12\x1aF True while an operation (a purchase o'
        b'r a deposit) holds the account.\n\nh\n\x04\x04\x02\x02\x01\x12\x04\xb0\x01\x02\x18\x1aZ Chosen by the c'
        b'aller, unique per user; a retry with the same id is applied at m'
        b'ost once.\n\nJ\n\x04\x04\x02\x02\x02\x12\x04\xb2\x01\x02\x13\x1a< Minor units, 1 to 10^15; the balance '
        b'may not exceed 10^15.\n\nZ\n\x04\x04\x03\x02\x00\x12\x04\xb7\x01\x02\x13\x1aL False when this deposit_i'
        b'd had already been applied; then nothing changed.\n\nJ\n\x04\x04\x03\x02\x01\x12\x04\xb9\x01\x02\x14'
        b'\x1a< The balance after the deposit (when applied), minor units.\n\n+'
        b'\n\x06\x04\x06\x04\x00\x02\x01\x12\x04\xc8\x01\x04\x0e\x1a\x1b No operation was pending.\n\nV\n\x06\x04\x06\x04\x00\x02\x02\x12\x04\xca\x01\x04\x17\x1aF An'
        b' interrupted operation had committed; its effects are now applie'
        b'd.\n\nb\n\x06\x04\x06\x04\x00\x02\x03\x12\x04\xcc\x01\x04\x14\x1aR An interrupted operation had not committed'
        b'; it was rolled back, nothing charged.\n\nU\n\x06\x04\x06\x04\x00\x02\x04\x12\x04\xce\x01\x04\x1b\x1aE Anothe'
        b'r node settled the pending operation while this login waited.\n\nL'
        b'\n\x06\x04\x06\x04\x00\x02\x05\x12\x04\xd0\x01\x04\x17\x1a< The store failed before it could be settled; lo'
        b'g in again.\n\n6\n\x04\x04\x0c\x02\x01\x12\x04\xef\x01\x02\x16\x1a( An existing user; NOT_FOUND otherwi'
        b'se.\n\nP\n\x04\x04\x0c\x02\x02\x12\x04\xf1\x01\x02\x16\x1aB The lowest price a slot ever sells for, min'
        b'or units, 1 to 10^15.\n\nU\n\x04\x04\x0c\x02\x03\x12\x04\xf3\x01\x02\x19\x1aG How long each slot shows '
        b'its filler, seconds, 1 to 2592000 (30 days).\n\n[\n\x04\x04\x0c\x02\x04\x12\x04\xf5\x01\x02\x15\x1aM Op'
        b'tional ad size in pixels, each 1 to 4096, both or neither (see C'
        b'ampaign).\n\nE\n\x04\x04\x0e\x02\x02\x12\x04\x81\x02\x02\x16\x1a7 The most the buyer will pay, minor un'
        b"its, 1 to 10^15.\n\nP\n\x04\x04\x0e\x02\x03\x12\x04\x83\x02\x02\x17\x1aB One of the buyer's fillers; em"
        b'pty to buy the slot without an ad.\n\n[\n\x04\x04\x0e\x02\x04\x12\x04\x85\x02\x02\x17\x1aM On a lost ra'
        b'ce, go on to the next slot while its price is within max_price.\n'
        b"\n \n\x04\x04\x0f\x02\x00\x12\x04\x8a\x02\x02\x16\x1a\x12 The slot bought.\n\nI\n\x04\x04\x0f\x02\x01\x12\x04\x8c\x02\x02\x15\x1a; The receipt's"
        b' document key, e.g. "txn:<campaign>:<slot>".\n\n\xbb\x01\n\x04\x04\x0f\x02\x02\x12\x04\x8f\x02\x02\x1d\x1a\xac\x01 '
        b"The buyer's balance afterwards; unset if the purchase committed "
        b'but its finishing was\n interrupted (recovery completes it within'
        b' about a second; Login shows the balance).\n\nD\n\x02\x04\x10\x12\x06\x93\x02\x00\xa2\x02\x01\x1a6 The '
        b'details of a FAILED_PRECONDITION or ABORTED Buy.\n\nQ\n\x04\x04\x10\x02\x01\x12\x04\x9d\x02\x02\x1a\x1a'
        b'C The price of the next slot now, minor units (0 for ACCOUNT_BUS'
        b'Y).\n\n2\n\x04\x04\x10\x02\x02\x12\x04\x9f\x02\x02\x11\x1a$ LOST_RACE: the slot that was lost.\n\n0\n\x04\x04\x10\x02\x03'
        b'\x12\x04\xa1\x02\x02\x14\x1a" INSUFFICIENT_FUNDS: the balance.\n\n[\n\x04\x04\x12\x02\x00\x12\x04\xaa\x02\x02\x16\x1aM Unset'
        b' when no slot covers now (nothing bought, or the last slot has e'
        b'nded).\n\n;\n\x04\x04\x12\x02\x01\x12\x04\xac\x02\x02\x14\x1a- Unset when the covering slot has no fill'
        b'er.\n\n?\n\x04\x04\x12\x02\x02\x12\x04\xae\x02\x02\x15\x1a1 When this answer was computed (ms since epo'
        b"ch).\n\nE\n\x04\x04\x13\x02\x00\x12\x04\xb3\x02\x02\x16\x1a7 Only this user's campaigns; empty for ever"
        b'y campaign.\n\nV\n\x04\x04\x13\x02\x01\x12\x04\xb5\x02\x02\x16\x1aH At most this many campaigns per pag'
        b'e: 0 means 50, above 500 means 500.\n\nW\n\x04\x04\x13\x02\x02\x12\x04\xb7\x02\x02\x18\x1aI Empty for t'
        b"he first page; then the previous response's next_page_token.\n\nY\n"
        b'\x02\x04\x14\x12\x06\xbb\x02\x00\xc1\x02\x01\x1aK A campaign as listed: what it is, how far it has s'
        b'old, and its price now.\n\n8\n\x04\x04\x14\x02\x01\x12\x04\xbe\x02\x02\x11\x1a* The highest finished sl'
        b'ot; 0 = none yet.\n\nS\n\x04\x04\x14\x02\x02\x12\x04\xc0\x02\x02\x1a\x1aE The price of the next slot at'
        b" the response's as_of_ms, minor units.\n\n%\n\x04\x04\x15\x02\x00\x12\x04\xc5\x02\x02)\x1a\x17 In campa"
        b'ign_id order.\n\nR\n\x04\x04\x15\x02\x01\x12\x04\xc7\x02\x02\x1d\x1aD Pass as page_token for the next p'
        b'age; empty when this is the last.\n\n?\n\x04\x04\x15\x02\x02\x12\x04\xc9\x02\x02\x15\x1a1 When the pric'
        b'es were computed (ms since epoch).\n\nR\n\x04\x04\x16\x02\x01\x12\x04\xcf\x02\x02\x16\x1aD At most this'
        b' many slots per page: 0 means 50, above 500 means 500.\n\n\x98\x01\n\x04\x04\x16\x02\x02'
        b'\x12\x04\xd2\x02\x02\x18\x1a\x89\x01 Empty for the first page (which starts at the head); t'
        b"hen the previous response's\n next_page_token (which names the ne"
        b'xt slot to read).\n\n\\\n\x04\x04\x17\x02\x00\x12\x04\xd7\x02\x02 \x1aN Newest (highest slot) first; '
        b'a void has only campaign_id, slot and void set.\n\nR\n\x04\x04\x17\x02\x01\x12\x04\xd9\x02\x02\x1d\x1aD'
        b' Pass as page_token for the next page; empty when this is the la'
        b'st.\n\nT\n\x04\x04\x18\x02\x01\x12\x04\xdf\x02\x02\x16\x1aF At most this many fillers per page: 0 means'
        b' 50, above 500 means 500.\n\nW\n\x04\x04\x18\x02\x02\x12\x04\xe1\x02\x02\x18\x1aI Empty for the first p'
        b"age; then the previous response's next_page_token.\n\n\xbf\x01\n\x04\x04\x19\x02\x00\x12\x04\xe7\x02"
        b'\x02\x1e\x1a\xb0\x01 In filler_id order; image is left empty, content_type, wid'
        b'th and height set (an image\n may be 256 KiB, and a page of them '
        b"would pass gRPC's 4 MB limit): GetFiller returns it.\n\nR\n\x04\x04\x19\x02\x01\x12\x04\xe9"
        b'\x02\x02\x1d\x1aD Pass as page_token for the next page; empty when this is t'
        b'he last.\n\nV\n\x04\x04\x1a\x02\x01\x12\x04\xef\x02\x02\x16\x1aH At most this many purchases per page: '
        b'0 means 50, above 500 means 500.\n\nW\n\x04\x04\x1a\x02\x02\x12\x04\xf1\x02\x02\x18\x1aI Empty for the '
        b"first page; then the previous response's next_page_token.\n\n:\n\x04\x04\x1b"
        b'\x02\x00\x12\x04\xf6\x02\x02$\x1a, Newest first (by bought_at_ms), each once.\n\nR\n\x04\x04\x1b\x02\x01\x12\x04'
        b'\xf8\x02\x02\x1d\x1aD Pass as page_token for the next page; empty when this is '
        b'the last.\n\nU\n\x04\x04\x1d\x02\x01\x12\x04\x83\x03\x02\x1b\x1aG Chosen by the caller, unique per user'
        b": the request's idempotency key.\n\n\x9d\x01\n\x04\x04\x1d\x02\x02\x12\x04\x86\x03\x02\x13\x1a\x8e\x01 What reaches"
        b" the destination, minor units, from the operator's minimum (defa"
        b"ult 1) to\n 10^15. The operator's flat fee is taken on top of it."
        b'\n\n\x90\x01\n\x04\x04\x1d\x02\x03\x12\x04\x89\x03\x02\x19\x1a\x81\x01 Where the payout goes (an account number, an'
        b' IBAN, an address at the payout rail): 1 to\n 256 characters, no '
        b'control characters.\n\n,\n\x04\x04\x1e\x02\x00\x12\x04\x8e\x03\x02\x1c\x1a\x1e The withdrawal as it is now'
        b'.\n\nq\n\x04\x04\x1e\x02\x01\x12\x04\x91\x03\x02\x12\x1ac True when this withdrawal_id had already been'
        b' requested with these fields; then nothing\n changed.\n\n\xb2\x01\n\x04\x04\x1e\x02\x02\x12\x04'
        b'\x94\x03\x02\x1d\x1a\xa3\x01 The balance after the withdrawal left it; unset for a re'
        b'play, or when the withdrawal\n committed but the debit was left t'
        b'o recovery (GetAccount shows it shortly).\n\n,\n\x02\x04\x1f\x12\x06\x98\x03\x00\xc0\x03\x01\x1a\x1e A wit'
        b'hdrawal and its payout.\n\nN\n\x06\x04\x1f\x04\x00\x02\x01\x12\x04\x9c\x03\x04\x12\x1a> Taken from the balanc'
        b'e, waiting for a payer or the operator.\n\nU\n\x06\x04\x1f\x04\x00\x02\x02\x12\x04\x9e\x03\x04\x0f\x1aE Claim'
        b'ed by a payer (see payer), which is asking the rail to pay it.\n\n'
        b'.\n\x06\x04\x1f\x04\x00\x02\x03\x12\x04\xa0\x03\x04\r\x1a\x1e Paid (see reference). Final.\n\n^\n\x06\x04\x1f\x04\x00\x02\x04\x12\x04\xa2\x03\x04\x0f\x1a'
        b'N The rail refused this try (see reason): for the operator to re'
        b'try or reject.\n\nP\n\x06\x04\x1f\x04\x00\x02\x05\x12\x04\xa4\x03\x04\x11\x1a@ Refused by the operator (see r'
        b'eason); its refund is under way.\n\nQ\n\x06\x04\x1f\x04\x00\x02\x06\x12\x04\xa6\x03\x04\x11\x1aA Refused, and'
        b' its amount and fee are back in the balance. Final.\n\n7\n\x04\x04\x1f\x02\x02\x12\x04\xab\x03'
        b'\x02\x13\x1a) What the destination gets, minor units.\n\n]\n\x04\x04\x1f\x02\x03\x12\x04\xad\x03\x02\x10\x1aO Th'
        b"e operator's flat fee, minor units, taken from the balance with "
        b'the amount.\n\n&\n\x04\x04\x1f\x02\x04\x12\x04\xaf\x03\x02\x19\x1a\x18 Where the payout goes.\n\nV\n\x04\x04\x1f\x02\x06\x12\x04\xb2\x03'
        b'\x02\x1c\x1aH When it was requested, and when its state last moved (ms si'
        b"nce epoch).\n\n_\n\x04\x04\x1f\x02\x08\x12\x04\xb5\x03\x02\x17\x1aQ PAID: the rail's (or the operator's"
        b') reference of the payment; otherwise empty.\n\nw\n\x04\x04\x1f\x02\t\x12\x04\xb8\x03\x02\x15\x1ai FA'
        b'ILED or REJECTED (and after them): why the last try failed, or w'
        b'hy it was rejected;\n otherwise empty.\n\nf\n\x04\x04\x1f\x02\n\x12\x04\xba\x03\x02\x13\x1aX Which try'
        b' at the rail this is, from 1 (each retry of a failed payout star'
        b'ts the next).\n\n\x84\x01\n\x04\x04\x1f\x02\x0b\x12\x04\xbd\x03\x02\x14\x1av PAYING and after: who claimed it'
        b' ("operator" for a manual payment, or a recovery\n replica\'s paye'
        b'r); otherwise empty.\n\nJ\n\x04\x04\x1f\x02\x0c\x12\x04\xbf\x03\x02\x1b\x1a< When it was claimed (ms si'
        b'nce epoch); 0 when it never was.\n\nD\n\x02\x04 \x12\x06\xc3\x03\x00\xd6\x03\x01\x1a6 The details of'
        b' a FAILED_PRECONDITION money-out call.\n\nW\n\x06\x04 \x04\x00\x02\x01\x12\x04\xc7\x03\x04\x1b\x1aG The ba'
        b'lance is below what the withdrawal takes (see balance, needed).\n'
        b'\nE\n\x06\x04 \x04\x00\x02\x02\x12\x04\xc9\x03\x04\x15\x1a5 Another operation holds the account: retry sh'
        b'ortly.\n\nV\n\x06\x04 \x04\x00\x02\x03\x12\x04\xcb\x03\x04\x14\x1aF The withdrawal is not in a state the m'
        b'ove needs (see state, wanted).\n\nl\n\x04\x04 \x02\x01\x12\x04\xd0\x03\x02\x14\x1a^ INSUFFICIENT_FUN'
        b'DS: the balance, and what the withdrawal needs (amount + fee), m'
        b"inor\n units.\n\n\xc2\x01\n\x04\x04 \x02\x03\x12\x04\xd4\x03\x02\x13\x1a\xb3\x01 WRONG_STATE: the withdrawal's st"
        b'ate, lower case as the journal names it (e.g. "paying",\n or "pay'
        b'ing (try 2)" when the move was about another try), and the state'
        b's the move needs.\n\nX\n\x04\x04"\x02\x01\x12\x04\xe0\x03\x02\x16\x1aJ At most this many withdrawals'
        b' per page: 0 means 50, above 500 means 500.\n\nW\n\x04\x04"\x02\x02\x12\x04\xe2\x03\x02\x18\x1aI Emp'
        b"ty for the first page; then the previous response's next_page_to"
        b'ken.\n\n%\n\x04\x04#\x02\x00\x12\x04\xe7\x03\x02&\x1a\x17 Newest request first.\n\nR\n\x04\x04#\x02\x01\x12\x04\xe9\x03\x02\x1d\x1aD Pas'
        b's as page_token for the next page; empty when this is the last.\n'
        b'\nT\n\x04\x04$\x02\x01\x12\x04\xef\x03\x02\x16\x1aF At most this many entries per page: 0 means 50,'
        b' above 500 means 500.\n\nW\n\x04\x04$\x02\x02\x12\x04\xf1\x03\x02\x18\x1aI Empty for the first page;'
        b" then the previous response's next_page_token.\n\nA\n\x02\x04%\x12\x06\xf5\x03\x00\x83\x04\x01\x1a3 "
        b'One line of a statement: a change of the balance.\n\n`\n\x04\x04%\x02\x00\x12\x04\xf7\x03\x02\x12'
        b'\x1aR When it was asked for (ms since epoch; 0 for records older th'
        b'an records\' times).\n\n\x97\x01\n\x04\x04%\x02\x01\x12\x04\xfa\x03\x02\x12\x1a\x88\x01 "deposit", "purchase", "c'
        b'redit" (a run of the user\'s campaign\'s sales credited),\n "withdr'
        b'awal" or "refund" (of a rejected withdrawal).\n\n\x89\x01\n\x04\x04%\x02\x02\x12\x04\xfd\x03\x02\x13\x1a{ '
        b'The deposit id, "<campaign>:<slot>" of a purchase, "<campaign>:<'
        b'first slot>-<last slot>"\n of a credit, the withdrawal id.\n\ns\n\x04\x04%'
        b'\x02\x03\x12\x04\x80\x04\x02\x13\x1ae The change of the balance, minor units: positive in, '
        b"negative out (a withdrawal's\n amount and fee).\n\n`\n\x04\x04%\x02\x04\x12\x04\x82\x04\x02\x14\x1aR "
        b'A withdrawal\'s payout state now (lower case, e.g. "requested"); '
        b'otherwise empty.\n\n\x1d\n\x04\x04&\x02\x00\x12\x04\x87\x04\x02&\x1a\x0f Newest first.\n\nR\n\x04\x04&\x02\x01\x12\x04\x89\x04\x02\x1d\x1aD'
        b' Pass as page_token for the next page; empty when this is the la'
        b"st.\n\n4\n\x04\x04&\x02\x02\x12\x04\x8b\x04\x02\x14\x1a& The user's balance now, minor units.\n\nR\n\x04\x04'"
        b'\x02\x00\x12\x04\x90\x04\x02\x1d\x1aD Only withdrawals in this state; STATE_UNSPECIFIED for'
        b" all of them.\n\nX\n\x04\x04'\x02\x01\x12\x04\x92\x04\x02\x16\x1aJ At most this many withdrawals per"
        b" page: 0 means 50, above 500 means 500.\n\nW\n\x04\x04'\x02\x02\x12\x04\x94\x04\x02\x18\x1aI Empty f"
        b"or the first page; then the previous response's next_page_token."
        b'\n\n%\n\x04\x04(\x02\x00\x12\x04\x99\x04\x02&\x1a\x17 Oldest request first.\n\nR\n\x04\x04(\x02\x01\x12\x04\x9b\x04\x02\x1d\x1aD Pass as'
        b' page_token for the next page; empty when this is the last.\n\ns\n\x04'
        b"\x04)\x02\x02\x12\x04\xa3\x04\x02\x17\x1ae The payment's reference in the operator's own recor"
        b'ds: 1 to 256 characters, no control\n characters.\n\nN\n\x04\x04*\x02\x02\x12\x04\xaa\x04\x02\x14\x1a'
        b'@ Why, for the user: 1 to 256 characters, no control characters.'
        b'\n\nX\n\x02\x04-\x12\x06\xb5\x04\x00\xba\x04\x01\x1aJ How many withdrawals are in one state, and wha'
        b't they took from balances.\n\n4\n\x04\x04-\x02\x02\x12\x04\xb9\x04\x02\x12\x1a& Their amounts and fe'
        b"es, minor units.\n\n\xaf\x02\n\x02\x04.\x12\x06\xc0\x04\x00\xd7\x04\x01\x1a\xa0\x02 The operator's books, minor "
        b'units: every deposited unit is in a balance, in an operation\n st'
        b'ill finishing, in a sale not yet credited to its seller, in the '
        b"operator's fees, or gone\n out by a withdrawal. They balance when"
        b'\n   deposits = balances + pending + uncredited + fees + withdraw'
        b'n.\n\n+\n\x04\x04.\x02\x00\x12\x04\xc2\x04\x02\x15\x1a\x1d Every deposit ever applied.\n\n,\n\x04\x04.\x02\x01\x12\x04\xc4\x04\x02\x15\x1a\x1e'
        b" Every account's balance now.\n\ne\n\x04\x04.\x02\x02\x12\x04\xc6\x04\x02\x14\x1aW What committed op"
        b"erations still holding their account's lock will change balances"
        b' by.\n\n^\n\x04\x04.\x02\x03\x12\x04\xc8\x04\x02\x17\x1aP The prices of sold slots no credit run cov'
        b'ers yet (receipts not yet credited).\n\n6\n\x04\x04.\x02\x04\x12\x04\xca\x04\x02\x11\x1a( The operat'
        b"or's fees on credited sales.\n\nA\n\x04\x04.\x02\x05\x12\x04\xcc\x04\x02\x15\x1a3 The shares credite"
        b"d to sellers (inside balances).\n\n@\n\x04\x04.\x02\x06\x12\x04\xce\x04\x02'\x1a2 Withdrawals by "
        b'state (the states that have any).\n\nE\n\x04\x04.\x02\x07\x12\x04\xd0\x04\x02\x15\x1a7 Given back to'
        b' rejected withdrawals (inside balances).\n\n=\n\x04\x04.\x02\x08\x12\x04\xd2\x04\x02\x16\x1a/ What l'
        b'eft by withdrawals, less their refunds.\n\na\n\x04\x04.\x02\t\x12\x04\xd4\x04\x02\x18\x1aS deposit'
        b's - (balances + pending + uncredited + fees + withdrawn): 0 when'
        b' balanced.\n\n \n\x04\x04.\x02\n\x12\x04\xd6\x04\x02\x15\x1a\x12 difference == 0.\n'
    ),
    'abc/v1/recovery.proto': (
        b'\n\xa8\x03\n\x01\x0c\x12\x03\x06\x00\x12\x1a\x9d\x03 The recovery service: one replica of the posse th'
        b'at finishes interrupted purchases.\n\n Replica i of N checks, each'
        b' second, the campaigns its schedule puts it on duty for, and\n ev'
        b'ery campaign at least every 10 s whatever the schedule says. Sta'
        b'tus is open to any\n caller that may reach the replica (it reveal'
        b's no money and changes nothing) but, like every\n Abc service, re'
        b'quires a token when tokens are configured.\n\n\xb6\x03\n\x02\x06\x00\x12\x04\x15\x00\x18\x01\x1a\xa9\x03 Keep'
        b'alive, for gateways: set keepalive_time to 10 s or more (pings e'
        b'very 2 s or slower are\n always accepted, with or without calls i'
        b'n flight) and keepalive_timeout to 20 s. Of pings\n more often th'
        b'an once a second while the server sends nothing, five are let pa'
        b'ss and the\n sixth gets GOAWAY too_many_pings. The server pings a'
        b' client it has not heard from in 60 s,\n and drops the connection'
        b' when the ack takes more than 20 s.\n\nB\n\x04\x06\x00\x02\x00\x12\x03\x17\x025\x1a5 What this re'
        b'plica is and has done since it started.\n\nZ\n\x04\x04\x01\x02\x02\x12\x03 \x02\x10\x1aM True whe'
        b'n the repaired slot was a void (a fenced purchase), not a purcha'
        b'se.\n\n9\n\x04\x04\x01\x02\x03\x12\x03"\x02\x1b\x1a, When the repair finished (ms since epoch).\n\n'
        b'Q\n\x04\x04\x01\x02\x04\x12\x03$\x02\x15\x1aD From the purchase (its bought_at) to the repair, '
        b"ms; 0 for a void.\n\nG\n\x04\x04\x02\x02\x00\x12\x03)\x02\x14\x1a: This replica's ordinal, from 0"
        b", and the replica count N.\n\nI\n\x04\x04\x02\x02\x02\x12\x03,\x02\x16\x1a< The schedule's name: "
        b'ordinal-shard, round-robin or random.\n\nE\n\x04\x04\x02\x02\x03\x12\x03.\x02\x1c\x1a8 Campaigns '
        b'found through the index at the last refresh.\n\nf\n\x04\x04\x02\x02\x04\x12\x030\x02\x13\x1aY Che'
        b'cks run and slots repaired since start; checks that failed (stor'
        b'e errors, timeouts).\n\nB\n\x04\x04\x02\x02\x07\x12\x034\x02#\x1a5 The most recent repairs, ne'
        b'west first (at most 20).\n\n:\n\x04\x04\x02\x02\x08\x12\x036\x02\x1a\x1a- When this replica start'
        b'ed (ms since epoch).\n'
    ),
    'abc/v1/types.proto': (
        b'\n\xbd\x02\n\x01\x0c\x12\x03\x06\x00\x12\x1a\xb2\x02 Shared types of the Abc API, package abc.v1.\n\n Un'
        b'its, everywhere in this API:\n   money  int64 minor units (think '
        b'cents or satoshis); never fractional; at most 10^15.\n   times  i'
        b'nt64 milliseconds since the Unix epoch, UTC.\n   ids    strings m'
        b'atching [A-Za-z0-9_-]{1,64}; anything else is INVALID_ARGUMENT.\n'
        b"\n[\n\x02\x04\x00\x12\x04\x11\x00\x1b\x01\x1aO A purchase that set a campaign's price: the last "
        b'real (non-void) filled slot.\n\n#\n\x04\x04\x00\x02\x00\x12\x03\x13\x02\x11\x1a\x16 Slot number, from 1'
        b'.\n\n3\n\x04\x04\x00\x02\x01\x12\x03\x15\x02\x12\x1a& What the buyer paid, in minor units.\n\n3\n\x04\x04\x00\x02\x02\x12'
        b'\x03\x17\x02\x19\x1a& When it was bought (ms since epoch).\n\nl\n\x04\x04\x00\x02\x03\x12\x03\x19\x02\x15\x1a_ When'
        b' the slot starts and ends showing its filler (ms since epoch); e'
        b'nd = start + slot length.\n\n\xb3\x02\n\x02\x04\x01\x12\x04!\x00%\x01\x1a\xa6\x02 How the price falls, '
        b'so a gateway can draw it without asking again:\n with no last pur'
        b'chase, or at or after last.end_ms, the price is min_price; befor'
        b'e that it\n falls on a straight line from 2 * last.price at last.'
        b'bought_at_ms to min_price at\n last.end_ms, computed in integers '
        b'and rounded up.\n\n;\n\x04\x04\x01\x02\x01\x12\x03$\x02\x14\x1a. Unset when the campaign has no p'
        b"urchase yet.\n\n'\n\x02\x04\x02\x12\x04(\x00A\x01\x1a\x1b An ad: what a slot shows.\n\n'\n\x04\x04\x02\x02\x00\x12\x03"
        b"*\x02\x15\x1a\x1a The uploading user's id.\n\n0\n\x04\x04\x02\x02\x01\x12\x03,\x02\x17\x1a# The filler's id, "
        b'unique per user.\n\n]\n\x04\x04\x02\x02\x02\x12\x03.\x02\x12\x1aP Display text, 1 to 500 characte'
        b'rs, plain: no control characters (no newlines).\n\n\x9b\x01\n\x04\x04\x02\x02\x03\x12\x031\x02\x12\x1a\x8d'
        b'\x01 Click-through URL: http or https, with a host and no user:pass'
        b'word@, no spaces or\n control characters, up to 2048 characters; '
        b'may be empty.\n\nX\n\x03\x04\x02\t\x12\x033\x02\r\x1aL Field 5 was image_base64 (text) bef'
        b'ore images were checked: v1 broke here.\n\n\xe1\x02\n\x04\x04\x02\x02\x04\x12\x039\x02\x12\x1a\xd3\x02 The im'
        b"age's bytes; may be empty (a text-only ad). On upload it is deco"
        b'ded and checked:\n PNG, JPEG, GIF or WebP, at most 262144 bytes, '
        b'each side 1 to 4096 pixels, at most\n 4194304 pixels in all (a de'
        b'compression bomb is refused before it is decoded in full).\n Anyt'
        b'hing else is INVALID_ARGUMENT (reason INVALID_IMAGE, field "fill'
        b'er.image").\n\n\xdd\x01\n\x04\x04\x02\x02\x05\x12\x03=\x02\x1a\x1a\xcf\x01 The image\'s media type: image/png,'
        b' image/jpeg, image/gif or image/webp. On upload it may\n be empty'
        b' (it is read from the image) or must match what the image is; al'
        b'ways set on\n output when there is an image.\n\nf\n\x04\x04\x02\x02\x06\x12\x03?\x02\x12\x1aY The '
        b"image's size in pixels, read from the image; ignored on upload, "
        b'0 without an image.\n\n\x9e\x01\n\x02\x04\x03\x12\x04E\x00T\x01\x1a\x91\x01 What finished a slot: a pur'
        b'chase, or a void (a fence that closed the slot to an\n interrupte'
        b'd purchase: nobody bought it, and it shows nothing).\n\n#\n\x04\x04\x03\x02\x01\x12\x03H'
        b'\x02\x11\x1a\x16 Slot number, from 1.\n\nG\n\x04\x04\x03\x02\x02\x12\x03J\x02\x10\x1a: True for a void; then '
        b"only campaign_id and slot are set.\n\n#\n\x04\x04\x03\x02\x03\x12\x03L\x02\x16\x1a\x16 The buyer's u"
        b"ser id.\n\n'\n\x04\x04\x03\x02\x04\x12\x03N\x02\x12\x1a\x1a Price paid, minor units.\n\nL\n\x04\x04\x03\x02\x05\x12\x03P\x02\x17\x1a?"
        b" The buyer's filler id; empty if the buyer bought without one.\n\n"
        b"i\n\x02\x04\x04\x12\x04W\x00`\x01\x1a] A campaign: its owner's numbered slots, never sold"
        b' below min_price, each slot_seconds long.\n\n\xb6\x01\n\x04\x04\x04\x02\x04\x12\x03^\x02\x15\x1a\xa8\x01 The '
        b'ad size the campaign shows, pixels; both 0: any size (text-only '
        b'ads too). When set,\n only a filler whose image is exactly ad_wid'
        b'th x ad_height can be bought here.\n\n?\n\x02\x04\x05\x12\x04c\x00e\x01\x1a3 Served by both'
        b' PurchaseService and NotifyService.\n\n^\n\x02\x04\x06\x12\x04h\x00u\x01\x1aR A campaign as'
        b' read now: its price curve, its price, the slot showing and its '
        b'ad.\n\n7\n\x04\x04\x06\x02\x01\x12\x03k\x02\x11\x1a* The highest finished slot; 0 = none yet.\n\nc\n'
        b'\x04\x04\x06\x02\x02\x12\x03m\x02\x17\x1aV The curve the price follows now (its last purchase '
        b"is the campaign's last purchase).\n\nC\n\x04\x04\x06\x02\x03\x12\x03o\x02\x1a\x1a6 The price of t"
        b'he next slot at as_of_ms, minor units.\n\n8\n\x04\x04\x06\x02\x04\x12\x03q\x02\x15\x1a+ When this'
        b' view was read (ms since epoch).\n\n[\n\x04\x04\x06\x02\x05\x12\x03s\x02\x1e\x1aN The slot showin'
        b'g at as_of_ms, if any, and its filler (unset if it has none).\n'
    ),
}
