/* Unit tests of TargetAudio and TranscodeAudio (spec 1.7). */
#include "test_job.h"

static void audio_stream_and_disable(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(MP4(",'Audio':{'Stream':[1,2]}") "," MP4(
        ",'Audio':{'DisableAudio':'true','TranscodeAudio':{'Codec':"
        "'nonsense'}}") "," AT("'Codec':'aac'")));
    const mc_target *t = job->targets;
    assert_true(t[0].has_audio);
    assert_int_equal(t[0].audio.stream.n, 2);
    assert_int_equal(t[0].audio.stream.index[0], 1);
    assert_false(t[0].audio.has_transcode);
    assert_true(t[1].audio.disable);
    assert_false(t[1].audio.has_transcode);
    assert_true(t[2].audio.has_transcode);
    assert_false(t[2].audio.mixing);
    mc_job_free(&job);
    BAD(REQ(MP4(",'Audio':{'Stream':[-3]}")), "Targets[0].Audio.Stream[0]");
    BAD(REQ(MP4(",'Audio':{'Stream':[0.5]}")), "Targets[0].Audio.Stream[0]");
    BAD(REQ(MP4(",'Audio':{'DisableAudio':2}")), "Targets[0].Audio.DisableAudio");
    BAD(REQ(MP4(",'Audio':true")), "Targets[0].Audio");
}

static void audio_codec(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(AT("") "," AT("'Codec':'AAC'") "," ATC("oga", "'Codec':'vorbis'")));
    const mc_target *t = job->targets;
    assert_true(t[0].audio.has_transcode);
    assert_int_equal(t[0].audio.transcode.codec, MC_ACODEC_COPY);
    assert_int_equal(t[0].audio.transcode.quality, -1);
    assert_int_equal(t[1].audio.transcode.codec, MC_ACODEC_AAC);
    assert_int_equal(t[1].audio.transcode.bitrate, 0);
    assert_int_equal(t[1].audio.transcode.sample_rate, 0);
    assert_int_equal(t[1].audio.transcode.channels, 0);
    assert_int_equal(t[1].audio.transcode.bits_per_sample, 0);
    assert_int_equal(t[2].audio.transcode.codec, MC_ACODEC_VORBIS);
    mc_job_free(&job);
    /* copy: siblings and FilterAudio ignored. */
    job = job_ok(REQ(MP4(",'Audio':{'TranscodeAudio':{'Codec':'copy','Bitrate':1,'Channel':99},"
                         "'FilterAudio':{'Mixing':'x'}}")));
    assert_int_equal(job->targets[0].audio.transcode.codec, MC_ACODEC_COPY);
    assert_int_equal(job->targets[0].audio.transcode.bitrate, 0);
    mc_job_free(&job);
    job = job_ok(REQ(MP4(",'Audio':{'TranscodeAudio':{'Codec':'aac'},'FilterAudio':{'Mixing':"
                         "true}}")));
    assert_true(job->targets[0].audio.mixing);
    mc_job_free(&job);

    BAD(TA("'Codec':'wma'"), P_TA "Codec");
    assert_non_null(
        strstr(job_last_msg(), "allowed: copy, aac, mp3, opus, vorbis, flac, ac3, amr"));
    BAD(TA("'Codec':'pcm'"), P_TA "Codec");
    BAD(TA("'Codec':'flac'"), P_TA "Codec");
    assert_non_null(strstr(job_last_msg(), "allowed: aac, mp3, opus, ac3"));
    BAD(TAC("mp3", "'Codec':'aac'"), P_TA "Codec");
    BAD(REQ(MP4(",'Audio':{'TranscodeAudio':{'Codec':'aac'},'FilterAudio':{'Mixing':'x'}}")),
        "Targets[0].Audio.FilterAudio.Mixing");
    BAD(REQ(MP4(",'Audio':{'TranscodeAudio':{'Codec':'aac'},'FilterAudio':true}")),
        "Targets[0].Audio.FilterAudio");
}

static void audio_bitrate_and_quality(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(
        AT("'Codec':'aac','Bitrate':128000,'BitrateOption':'fall'") "," AT("'Codec':'aac','Quality'"
                                                                           ":80") "," AT(
            "'Codec':'aac','Bitrate':10000000,'Quality':null") "," AT("'Codec':'aac','Quality':0."
                                                                      "0")));
    const mc_target *t = job->targets;
    assert_int_equal(t[0].audio.transcode.bitrate, 128000);
    assert_int_equal(t[0].audio.transcode.bitrate_option, MC_OPTION_FALL);
    assert_int_equal(t[0].audio.transcode.quality, -1);
    assert_int_equal(t[1].audio.transcode.quality, 80);
    assert_int_equal(t[2].audio.transcode.bitrate, 10000000);
    assert_int_equal(t[3].audio.transcode.quality, 0);
    mc_job_free(&job);
    BAD(TA("'Codec':'aac','Bitrate':128000,'Quality':80"), P_TA "Quality");
    assert_non_null(strstr(job_last_msg(), "Bitrate"));
    BAD(TA("'Codec':'aac','Bitrate':999"), P_TA "Bitrate");
    BAD(TA("'Codec':'aac','Bitrate':10000001"), P_TA "Bitrate");
    assert_non_null(strstr(job_last_msg(), "allowed: 1000 to 10000000"));
    BAD(TA("'Codec':'aac','Quality':101"), P_TA "Quality");
    BAD(TA("'Codec':'aac','Quality':-1"), P_TA "Quality");
    BAD(TA("'Codec':'aac','BitrateOption':'fixed'"), P_TA "BitrateOption");
    assert_non_null(strstr(job_last_msg(), "requires Bitrate"));
    BAD(TA("'Codec':'aac','Bitrate':128000,'BitrateOption':'best'"), P_TA "BitrateOption");
}

static void sample_rate(void **state)
{
    (void)state;
    mc_job *job =
        job_ok(REQ(AT("'Codec':'aac','SampleRate':44100,'SampleRateOption':'adaptive'") "," AT(
            "'Codec':'aac','SampleRate':'96000'") "," ATC("amr",
                                                          "'Codec':'amr','SampleRate':8000,'"
                                                          "Channel':1") "," AT("'Codec':'opus','"
                                                                               "SampleRate':"
                                                                               "48000")));
    const mc_target *t = job->targets;
    assert_int_equal(t[0].audio.transcode.sample_rate, 44100);
    assert_int_equal(t[0].audio.transcode.sample_rate_option, MC_OPTION_ADAPTIVE);
    assert_int_equal(t[1].audio.transcode.sample_rate, 96000);
    assert_int_equal(t[2].audio.transcode.codec, MC_ACODEC_AMR);
    assert_int_equal(t[2].audio.transcode.sample_rate, 8000);
    assert_int_equal(t[2].audio.transcode.channels, 1);
    assert_int_equal(t[3].audio.transcode.sample_rate, 48000);
    mc_job_free(&job);
    BAD(TA("'Codec':'aac','SampleRate':12025"), P_TA "SampleRate");
    assert_non_null(strstr(job_last_msg(), "11025 is meant"));
    BAD(TA("'Codec':'aac','SampleRate':44000"), P_TA "SampleRate");
    assert_non_null(strstr(job_last_msg(), "allowed: 8000, 11025, 12000"));
    BAD(TA("'Codec':'opus','SampleRate':44100"), P_TA "SampleRate");
    assert_non_null(strstr(job_last_msg(), "allowed: 8000, 12000, 16000, 24000, 48000"));
    BAD(TA("'Codec':'mp3','SampleRate':96000"), P_TA "SampleRate");
    BAD(TAC("amr", "'Codec':'amr','SampleRate':16000"), P_TA "SampleRate");
    BAD(TA("'Codec':'ac3','SampleRate':22050"), P_TA "SampleRate");
    BAD(TA("'Codec':'aac','SampleRateOption':'fixed'"), P_TA "SampleRateOption");
    assert_non_null(strstr(job_last_msg(), "requires SampleRate"));
    BAD(TA("'Codec':'aac','SampleRate':44100.5"), P_TA "SampleRate");
}

static void channels(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(AT("'Codec':'aac','Channel':8") "," AT(
        "'Codec':'ac3','Channel':6") "," AT("'Codec':'mp3','Channel':2")));
    assert_int_equal(job->targets[0].audio.transcode.channels, 8);
    assert_int_equal(job->targets[1].audio.transcode.channels, 6);
    assert_int_equal(job->targets[2].audio.transcode.channels, 2);
    mc_job_free(&job);
    BAD(TA("'Codec':'aac','Channel':0"), P_TA "Channel");
    BAD(TA("'Codec':'aac','Channel':9"), P_TA "Channel");
    assert_non_null(strstr(job_last_msg(), "allowed: 1 to 8"));
    BAD(TA("'Codec':'mp3','Channel':6"), P_TA "Channel");
    assert_non_null(strstr(job_last_msg(), "allowed: 1 to 2"));
    BAD(TAC("amr", "'Codec':'amr','Channel':2"), P_TA "Channel");
    BAD(TA("'Codec':'ac3','Channel':7"), P_TA "Channel");
}

static void bits_per_sample(void **state)
{
    (void)state;
    mc_job *job = job_ok(REQ(ATC("flac", "'Codec':'flac','BitsPerSample':24") "," ATC(
        "mkv", "'Codec':'flac','BitsPerSample':'16'")));
    assert_int_equal(job->targets[0].audio.transcode.bits_per_sample, 24);
    assert_int_equal(job->targets[1].audio.transcode.bits_per_sample, 16);
    mc_job_free(&job);
    BAD(TAC("flac", "'Codec':'flac','BitsPerSample':20"), P_TA "BitsPerSample");
    assert_non_null(strstr(job_last_msg(), "allowed: 16, 24"));
    BAD(TA("'Codec':'aac','BitsPerSample':16"), P_TA "BitsPerSample");
    assert_non_null(strstr(job_last_msg(), "flac"));
}

int test_job_audio(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audio_stream_and_disable),
        cmocka_unit_test(audio_codec),
        cmocka_unit_test(audio_bitrate_and_quality),
        cmocka_unit_test(sample_rate),
        cmocka_unit_test(channels),
        cmocka_unit_test(bits_per_sample),
    };
    return cmocka_run_group_tests_name("job: audio", tests, NULL, NULL);
}
