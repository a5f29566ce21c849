"""Programmatic accreditation types the sample site draws from: real agency and program names (DAPIP).

Each row: agency, program type as College Navigator words it, the institution levels that offer it,
the award levels, how many per hundred eligible institutions, the share offered online, and the
CIP title of its field. Kept apart from the generator (``institutions.py``) because it is data.
"""

from __future__ import annotations

CERT, ASSOC, BACH, MAST = "Certificate", "Associate's degree", "Bachelor's degree", "Master's degree"
DOC_P, DOC_R = "Doctor's degree - professional practice", "Doctor's degree - research/scholarship"

# --- programmatic accreditation types: (agency prefix, DAPIP program name, kinds, awards, weight, online prob, CIP title)
# kinds: "two" 2-year colleges, "lt2" less-than-2-year schools, "four" bachelor's level, "grad" master's level, "doc" doctoral.
PROGRAM_TYPES: list[tuple[str, str, str, tuple[str, ...], float, float, str]] = [
    ("Accreditation Commission for Education in Nursing", "Nursing (ADNUR) - Associate degree programs", "two", (ASSOC,), 10, 0.04, "Registered Nursing/Registered Nurse"),
    ("Accreditation Commission for Education in Nursing", "Nursing (PNUR) - Practical nursing programs", "two lt2", (CERT,), 4, 0.0, "Licensed Practical/Vocational Nurse Training"),
    ("Accreditation Commission for Education in Nursing", "Nursing (NUR) - Baccalaureate program", "four", (BACH,), 3, 0.3, "Registered Nursing/Registered Nurse"),
    ("Accreditation Commission for Education in Nursing", "Nursing (MNUR) - Master's program", "grad", (MAST,), 1.5, 0.4, "Family Practice Nurse/Nursing"),
    ("Accreditation Commission for Education in Nursing", "Nursing (DNUR) - Diploma programs", "two", (CERT,), 0.3, 0.0, "Registered Nursing/Registered Nurse"),
    ("Accreditation Commission for Education in Nursing", "Nursing (CLNUR) - Clinical Doctorate", "doc", (DOC_P,), 0.5, 0.4, "Family Practice Nurse/Nursing"),
    ("Commission on Collegiate Nursing Education", "Nursing (CNURED) - Nursing education programs at the baccalaureate degree levels", "four", (BACH,), 8, 0.25, "Registered Nursing/Registered Nurse"),
    ("Commission on Collegiate Nursing Education", "Nursing (CNURED) - Nursing education programs at the graduate degree levels", "grad", (MAST,), 5, 0.45, "Family Practice Nurse/Nursing"),
    ("Commission on Collegiate Nursing Education", "Nursing (CNDNP) - Nursing education programs at the doctorate degree levels", "doc", (DOC_P,), 3, 0.4, "Family Practice Nurse/Nursing"),
    ("American Dental Association, Commission on Dental Accreditation", "Dental Hygiene (DH)", "two", (ASSOC,), 5, 0.0, "Dental Hygiene/Hygienist"),
    ("American Dental Association, Commission on Dental Accreditation", "Dental Assisting (DA)", "two lt2", (CERT,), 4, 0.0, "Dental Assisting/Assistant"),
    ("American Dental Association, Commission on Dental Accreditation", "Dental Laboratory Technology (DT)", "two", (ASSOC,), 0.5, 0.0, "Dental Hygiene/Hygienist"),
    ("American Dental Association, Commission on Dental Accreditation", "Predoctoral", "doc", (DOC_P,), 1.2, 0.0, "Dentistry"),
    ("Joint Review Committee on Education in Radiologic Technology", "Radiologic Technology (RAD) - Programs for radiographers", "two", (ASSOC,), 7, 0.0, "Radiologic Technology/Science - Radiographer"),
    ("Joint Review Committee on Education in Radiologic Technology", "Radiologic Technology (RADTT) - Programs for radiation therapists", "four two", (BACH, CERT), 1, 0.0, "Radiologic Technology/Science - Radiographer"),
    ("Joint Review Committee on Education in Radiologic Technology", "Medical Dosimetry (MD) - Programs for medical dosimetrists", "four", (CERT, MAST), 0.4, 0.2, "Radiologic Technology/Science - Radiographer"),
    ("Joint Review Committee on Education in Radiologic Technology", "Magnetic Resonance (MR) - Programs for magnetic resonance technologists", "two", (CERT, ASSOC), 0.5, 0.0, "Diagnostic Medical Sonography/Sonographer and Ultrasound Technician"),
    ("American Physical Therapy Association, Commission on Accreditation in Physical Therapy Education", "Physical Therapy (PTA) - Programs for the physical therapist assistant", "two", (ASSOC,), 5, 0.04, "Physical Therapy Assistant"),
    ("American Physical Therapy Association, Commission on Accreditation in Physical Therapy Education", "Physical Therapy (PT) - Professional programs for the physical therapist", "doc", (DOC_P,), 3, 0.0, "Physical Therapy/Therapist"),
    ("American Occupational Therapy Association, Accreditation Council for Occupational Therapy Education", "Occupational Therapy Assistant (OTA) - Programs leading to an associate degree", "two", (ASSOC,), 4, 0.05, "Occupational Therapist Assistant"),
    ("American Occupational Therapy Association, Accreditation Council for Occupational Therapy Education", "Occupational Therapy (OTM) - Programs leading to a Master's Degree", "grad", (MAST,), 3, 0.05, "Occupational Therapy/Therapist"),
    ("American Occupational Therapy Association, Accreditation Council for Occupational Therapy Education", "Occupational Therapy (OTD) - Programs leading to a Doctoral Degree", "doc", (DOC_P,), 1, 0.1, "Occupational Therapy/Therapist"),
    ("Academy of Nutrition and Dietetics, Accreditation Council for Education in Nutrition and Dietetics", "Didactic Program in Dietetics", "four", (BACH,), 3, 0.1, "Dietetics/Dietitian"),
    ("Academy of Nutrition and Dietetics, Accreditation Council for Education in Nutrition and Dietetics", "Dietetics (DIET) - Coordinated Program in Dietetics", "four grad", (BACH, MAST), 1, 0.1, "Dietetics/Dietitian"),
    ("Academy of Nutrition and Dietetics, Accreditation Council for Education in Nutrition and Dietetics", "Dietetics (DIETT) - Dietetic Technician Program", "two", (ASSOC,), 1, 0.2, "Dietetics/Dietitian"),
    ("Accrediting Bureau of Health Education Schools", "Medical Assisting (MAAAS) - Associate in/of Applied Science program", "two", (ASSOC,), 1, 0.2, "Medical/Clinical Assistant"),
    ("Accrediting Bureau of Health Education Schools", "Medical Assistant Education (MAAB) - Private schools and programs", "lt2", (CERT,), 2, 0.2, "Medical/Clinical Assistant"),
    ("Accrediting Bureau of Health Education Schools", "Surgical Technology (STAB) - Schools and Programs for the surgical technician", "lt2 two", (CERT, ASSOC), 1, 0.0, "Surgical Technology/Technologist"),
    ("Accrediting Bureau of Health Education Schools", "Medical Laboratory Technician Education (MLTAB) - Schools and programs for the medical laboratory technician", "two", (ASSOC,), 0.3, 0.0, "Clinical/Medical Laboratory Technician"),
    ("Accreditation Council for Pharmacy Education", "Pharmacy (PHAR) - Professional degree programs", "doc", (DOC_P,), 2, 0.0, "Pharmacy"),
    ("American Bar Association, Council of the Section of Legal Education and Admissions to the Bar", "Law (LAW) - Professional schools", "doc", (DOC_P,), 2, 0.02, "Law"),
    ("Liaison Committee on Medical Education", "Medicine (MED) - Programs leading to the M.D. degree", "doc", (DOC_P,), 1.2, 0.0, "Medicine"),
    ("American Osteopathic Association, Commission on Osteopathic College Accreditation", "Osteopathic Medicine (OSTEO) - Programs leading to the D.O. degree", "doc", (DOC_P,), 0.5, 0.0, "Osteopathic Medicine/Osteopathy"),
    ("American Veterinary Medical Association, Council on Education", "Veterinary Medicine (VET) - Programs leading to a D.V.M. or D.M.V. degree", "doc", (DOC_P,), 0.4, 0.0, "Veterinary Medicine"),
    ("American Optometric Association, Accreditation Council on Optometric Education", "Optometry (OPT) - Professional degree programs", "doc", (DOC_P,), 0.3, 0.0, "Optometry"),
    ("American Optometric Association, Accreditation Council on Optometric Education", "Optometry (OPTT) - Technician programs", "two", (ASSOC,), 0.2, 0.0, "Optometry"),
    ("The Council on Chiropractic Education, Commission on Accreditation", "Chiropractic (CHIRO) - Programs leading to the D.C. degree", "doc", (DOC_P,), 0.2, 0.0, "Chiropractic"),
    ("American Psychological Association, Commission on Accreditation", "Clinical Psychology (CLPSY) - PhD Doctoral programs", "doc", (DOC_R,), 2.5, 0.0, "Clinical Psychology"),
    ("American Psychological Association, Commission on Accreditation", "Counseling Psychology (COPSY) - PhD Doctoral programs", "doc", (DOC_R,), 1, 0.0, "Counseling Psychology"),
    ("American Psychological Association, Commission on Accreditation", "School Psychology (SCPSY) - PhD Doctoral programs", "doc", (DOC_R,), 0.8, 0.0, "Psychology, General"),
    ("American Psychological Association, Commission on Accreditation", "Clinical Psychology (CLPSYD) - PsyD Doctoral programs", "doc", (DOC_P,), 1, 0.0, "Clinical Psychology"),
    ("American Speech-Language-Hearing Association, Council on Academic Accreditation in Audiology and Speech-Language Pathology", "Speech-Language Pathology (SLP) - Graduate degree programs", "grad", (MAST,), 3, 0.1, "Speech-Language Pathology/Pathologist"),
    ("American Speech-Language-Hearing Association, Council on Academic Accreditation in Audiology and Speech-Language Pathology", "Clinical doctoral program in Audiology", "doc", (DOC_P,), 0.8, 0.0, "Audiology/Audiologist"),
    ("Council on Accreditation of Nurse Anesthesia Educational Programs", "Nurse Anesthesia (ANEST) - Institutions and programs at the master's degree, post master's certificate or doctoral degree levels", "grad", (MAST, DOC_P), 1.2, 0.0, "Nurse Anesthetist"),
    ("Accreditation Commission for Midwifery Education", "Nurse Midwifery (MIDWF) - Basic certificate and graduate nurse-midwifery education programs for registered nurses", "grad", (MAST,), 0.4, 0.3, "Family Practice Nurse/Nursing"),
    ("Council on Education for Public Health", "Public Health Programs (PHPG) - Graduate level program offered outside a school of public health", "grad", (MAST,), 1, 0.3, "Public Health, General"),
    ("Council on Education for Public Health", "Public Health (PHBG) - Baccalaureate and Graduate level school of public health", "doc", (MAST,), 0.5, 0.2, "Public Health, General"),
    ("National Association of Schools of Music, Commission on Accreditation", "Music (MUS) - Institutions and units within institutions offering degree-granting and/or non-degree-granting programs", "four two", (BACH, ASSOC), 5, 0.0, "Music, General"),
    ("National Association of Schools of Art and Design, Commission on Accreditation", "Art and Design (ART) - Degree-granting schools and departments and non-degree-granting programs", "four", (BACH,), 3, 0.05, "Fine/Studio Arts, General"),
    ("National Association of Schools of Theatre, Commission on Accreditation", "Theatre (THEA) - Institutions and units within institutions offering degree-granting and/or non-degree-granting programs", "four", (BACH,), 1.5, 0.0, "Drama and Dramatics/Theatre Arts, General"),
    ("National Association of Schools of Dance, Commission on Accreditation", "Dance (DANCE) - Institutions and units within institutions offering degree-granting and non-degree-granting programs", "four", (BACH,), 0.8, 0.0, "Dance, General"),
    ("American Board of Funeral Service Education, Committee on Accreditation", "Funeral Service Education (FUSER) - Institutions and programs awarding diplomas, associate degrees and bachelor's degrees", "two", (ASSOC,), 0.6, 0.3, "Human Services, General"),
    ("Commission on Massage Therapy Accreditation", "Massage", "lt2", (CERT,), 0.5, 0.0, "Massage Therapy/Therapeutic Massage"),
    ("Accreditation Commission for Acupuncture and Oriental Medicine", "Acupuncture (ACUP) - Professional master's degree and professional master's level certificate and diploma programs in acupuncture and oriental medicine", "grad", (MAST,), 0.2, 0.0, "Public Health, General"),
    ("Missouri State Board of Nursing", "Associate Degree Nursing Programs", "two", (ASSOC,), 0.0, 0.0, "Registered Nursing/Registered Nurse"),
    ("Missouri State Board of Nursing", "Practical Nursing Programs", "two lt2", (CERT,), 0.0, 0.0, "Licensed Practical/Vocational Nurse Training"),
    ("Missouri State Board of Nursing", "Baccalaureate Degree Nursing Programs", "four", (BACH,), 0.0, 0.0, "Registered Nursing/Registered Nurse"),
    ("Commission on Accrediting of the Association of Theological Schools", "Theology (THEOL) - Freestanding schools, as well as programs affiliated with larger institutions, offering graduate professional education for ministry and graduate study of theology", "grad", (MAST,), 0.6, 0.3, "Theology/Theological Studies"),
]
