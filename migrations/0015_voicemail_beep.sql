-- Voicemail drop after the beep: on an answering machine, the switch listens for the beep
-- (Asterisk WaitForSilence, FreeSWITCH mod_avmd) at most this many seconds before the
-- campaign's voicemail_message is played; 0 = play as soon as AMD says machine.
ALTER TABLE campaigns
    ADD COLUMN voicemail_beep_timeout_s double precision NOT NULL DEFAULT 10
        CHECK (voicemail_beep_timeout_s >= 0 AND voicemail_beep_timeout_s <= 60);
